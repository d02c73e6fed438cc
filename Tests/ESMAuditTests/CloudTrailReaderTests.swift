import ESMCore
import Testing
@testable import ESMAudit

@Suite struct CloudTrailReaderTests {
    @Test func eventNamesLoseTheirDateAndVersionSuffix() {
        #expect(CloudTrailReader.baseName("CreateEventSourceMapping20150331") == "CreateEventSourceMapping")
        #expect(CloudTrailReader.baseName("TagResource20170331v2") == "TagResource")
        #expect(CloudTrailReader.baseName("UpdateEventSourceMapping20150331v12") == "UpdateEventSourceMapping")
        #expect(CloudTrailReader.baseName("DeleteEventSourceMapping") == "DeleteEventSourceMapping")
        #expect(CloudTrailReader.baseName("LambdaESMDisabled") == "LambdaESMDisabled")
    }

    @Test func memberNamesGetTheirFirstLetterBackButTagKeysStay() {
        let given: JSON = ["uUID": "u", "kMSKeyArn": "k", "batchSize": 5, "filterCriteria": ["filters": [["pattern": "{}"]]],
                           "tags": ["team": "a", "cost-center": "b"]]
        #expect(CloudTrailReader.apiNames(given) == ["UUID": "u", "KMSKeyArn": "k", "BatchSize": 5,
                                                     "FilterCriteria": ["Filters": [["Pattern": "{}"]]],
                                                     "Tags": ["team": "a", "cost-center": "b"]])
    }

    @Test func aTrailFileBuildsOnlyTheRecordsThatMentionLambda() throws {
        let text = #"{"Records":[{"eventSource":"s3.amazonaws.com","eventName":"GetObject","x":[1,2,{"y":"z\"q"}]},"#
            + #"{"eventSource":"lambda.amazonaws.com","eventName":"GetFunction20150331v2","eventID":"e"}]}"#
        var items: [String] = []
        try CloudTrailReader.records(in: Array(text.utf8)) { item in
            switch item {
            case .skipped: items.append("skipped")
            case .record(let r): items.append(r["eventName"]?.stringValue ?? "?")
            }
        }
        #expect(items == ["skipped", "GetFunction20150331v2"])
        // Syntax is checked in the records it does not build, too.
        let broken = #"{"Records":[{"eventSource":"s3.amazonaws.com","x":[1,2}]}"#
        #expect(throws: CloudTrailReadError.self) { try CloudTrailReader.records(in: Array(broken.utf8)) { _ in } }
    }

    @Test func aRefusedCallIsAnAttemptThatChangesNothing() throws {
        let record: JSON = [
            "eventSource": "lambda.amazonaws.com", "eventName": "UpdateEventSourceMapping20150331", "eventID": "id-1",
            "eventTime": "2024-06-02T09:30:00Z", "awsRegion": "us-east-1", "recipientAccountId": "123456789012",
            "userIdentity": ["type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/m", "accessKeyId": "AKIAM", "accountId": "123456789012"],
            "requestParameters": ["uUID": "u-1", "batchSize": 1000], "responseElements": .null, "errorCode": "AccessDenied",
        ]
        guard case .mapping(let e) = try CloudTrailReader.record(record) else { Issue.record("not read as a mapping record"); return }
        #expect(e.uuid == "u-1" && e.record.arn == "arn:aws:lambda:us-east-1:123456789012:event-source-mapping:u-1")
        #expect(e.record.errorCode == "AccessDenied" && e.record.configuration == nil && e.record.state == nil)
        #expect(e.actor?.identity?["PrincipalArn"] == "arn:aws:iam::123456789012:user/m")
    }
}
