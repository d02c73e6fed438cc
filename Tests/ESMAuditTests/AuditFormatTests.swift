import ESMCore
import Testing
@testable import ESMAudit

let alice = Actor(accessKeyId: "AKIAALICE", sourceIp: "10.1.2.3", userAgent: "aws-cli/1.45 Python/3.11", requestId: "req-a", region: "eu-west-1")

/// A short history: create with tags, settle, update two fields (one nested), delete, remove.
func history() throws -> [TimelineEntry] {
    var p = Projection()
    var b = TimelineBuilder()
    var out: [TimelineEntry] = []
    var t: Int64 = 1_795_000_000_000
    func step(_ d: Decision) throws {
        let e = d.event(sequence: p.lastSequence + 1)
        try p.apply(e)
        out.append(try b.next(e))
    }
    func ctx() -> CommandContext {
        t += 1000
        return CommandContext(time: EventTime(milliseconds: t), actor: alice, account: "123456789012")
    }
    let id = "00000000-0000-4000-8000-000000000001"
    try step(Decider.create(body: ["EventSourceArn": "arn:aws:sqs:eu-west-1:123456789012:q", "FunctionName": "fn",
                                   "ProvisionedPollerConfig": ["MinimumPollers": 2, "MaximumPollers": 10], "Tags": ["team": "a,\"b\"\nc"]],
                            uuid: id, context: ctx(), state: p).get())
    try step(Decider.completeTransition(uuid: id, time: EventTime(milliseconds: t + 10), state: p)!)
    try step(Decider.update(uuid: id, body: ["BatchSize": 5, "ProvisionedPollerConfig": ["MinimumPollers": 2, "MaximumPollers": 20],
                                             "FilterCriteria": ["Filters": [["Pattern": "{\"a\": [\"x,\\\"y\\\"\\nz\"]}"]]]],
                            context: ctx(), state: p).get())
    try step(Decider.completeTransition(uuid: id, time: EventTime(milliseconds: t + 10), state: p)!)
    try step(Decider.delete(uuid: id, context: ctx(), state: p).get()!)
    try step(Decider.completeTransition(uuid: id, time: EventTime(milliseconds: t + 10), state: p)!)
    return out
}

@Suite struct TimelineTests {
    @Test func entriesNameOperationsStatesAndFieldChangesByPath() throws {
        let h = try history()
        #expect(h.map(\.operation) == [
            "CreateEventSourceMapping", "Creating → Enabled", "UpdateEventSourceMapping", "Updating → Enabled",
            "DeleteEventSourceMapping", "Deleting → removed",
        ])
        #expect(h[0].stateBefore == nil && h[0].stateAfter == .creating)
        #expect(h[5].stateAfter == nil)
        let update = Dictionary(uniqueKeysWithValues: h[2].changes.map { ($0.path, $0) })
        #expect(update["BatchSize"] == FieldChange(path: "BatchSize", before: 10, after: 5))
        #expect(update["ProvisionedPollerConfig.MaximumPollers"] == FieldChange(path: "ProvisionedPollerConfig.MaximumPollers", before: 10, after: 20))
        #expect(update["ProvisionedPollerConfig.MinimumPollers"] == nil)
        #expect(update["State"] == FieldChange(path: "State", before: "Enabled", after: "Updating"))
        #expect(update["FilterCriteria.Filters"]?.before == nil)
        #expect(h[0].changes.contains(FieldChange(path: "Tags.team", before: nil, after: "a,\"b\"\nc")))
        #expect(h[1].changes == [FieldChange(path: "State", before: "Creating", after: "Enabled")])
    }

    @Test func filterSelectsByMappingAndTime() throws {
        let h = try history()
        let f = TimelineFilter(mapping: nil, since: h[2].event.time, until: h[4].event.time)
        #expect(h.filter { f.includes($0.event) }.map(\.event.sequence) == [3, 4, 5])
        #expect(h.filter { TimelineFilter(mapping: "other").includes($0.event) }.isEmpty)
    }
}

@Suite struct ExportFormatTests {
    @Test func csvQuotesCommasQuotesAndLineBreaks() throws {
        #expect(CSVExport.field("plain") == "plain")
        #expect(CSVExport.field("a,b") == "\"a,b\"")
        #expect(CSVExport.field("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVExport.field("two\nlines") == "\"two\nlines\"")
        let h = try history()
        let text = CSVExport.header + h.map(CSVExport.rows).joined()
        let table = parseCSV(text)
        #expect(table[0] == CSVExport.columns)
        #expect(table.count == 1 + h.reduce(0) { $0 + max(1, $1.changes.count) })
        #expect(table.dropFirst().allSatisfy { $0.count == CSVExport.columns.count })
        func column(_ name: String) -> Int { CSVExport.columns.firstIndex(of: name)! }
        let tag = try #require(table.first { $0[column("field")] == "Tags.team" })
        #expect(tag[column("after")] == "a,\"b\"\nc")
        #expect(tag[column("user_agent")] == "aws-cli/1.45 Python/3.11")
        #expect(tag[column("principal_arn")] == "")
    }

    /// An RFC 4180 reader, to check the writer against.
    func parseCSV(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = "", quoted = false
        var chars = Array(text)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" { field.append("\""); chars.removeFirst() } else { quoted = false }
                } else { field.append(c) }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                row.append(field); field = ""
            } else if c == "\r\n" || c == "\n" {
                row.append(field); rows.append(row); row = []; field = ""
            } else {
                field.append(c)
            }
        }
        return rows
    }

    @Test func htmlEscapesEverythingAndLoadsNothing() throws {
        let coverage = ExportCoverage(firstSequence: 1, lastSequence: 6, headHash: "abc", verification: "ok", filter: "all")
        let page = HTMLExport.document(try history(), coverage: coverage)
        #expect(page.contains("head hash abc"))
        #expect(page.contains("<del>10</del> → <ins>20</ins>"))
        #expect(!page.contains("x,\"y\""))
        for remote in ["http://", "https://", "src=", "@import", "url("] { #expect(!page.contains(remote), "\(remote)") }
        #expect(HTMLExport.escape("<script>&\"'") == "&lt;script&gt;&amp;&quot;&#39;")
    }

    @Test func cloudTrailRecordsCarryTheDocumentedFields() throws {
        let h = try history()
        let create = CloudTrailExport.record(h[0]).objectValue!
        for key in ["eventVersion", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress", "userAgent", "userIdentity",
                    "requestParameters", "responseElements", "requestID", "eventID", "readOnly", "eventType", "managementEvent",
                    "recipientAccountId"] {
            #expect(create[key] != nil, "\(key)")
        }
        #expect(create["eventName"] == "CreateEventSourceMapping20150331")
        #expect(create["eventSource"] == "lambda.amazonaws.com")
        #expect(create["userIdentity"]?["accessKeyId"] == "AKIAALICE")
        #expect(create["userIdentity"]?["type"] == "IAMUser")
        #expect(create["awsRegion"] == "eu-west-1")
        #expect(create["recipientAccountId"] == "123456789012")
        #expect(create["eventTime"]?.stringValue?.count == 20)
        #expect(CloudTrailExport.record(h[2])["requestParameters"]?["uUID"] == .string(h[2].event.uuid))
        #expect(CloudTrailExport.record(h[1])["eventType"] == "AwsServiceEvent")
        let ids = Set(h.map { CloudTrailExport.eventID($0) })
        #expect(ids.count == h.count)
        #expect(CloudTrailExport.eventID(h[0]) == CloudTrailExport.eventID(try history()[0]))
    }

    @Test func cloudTrailEventIDsAreUUIDsUniquePerSequence() throws {
        let entry = try history()[0]
        var seen = Set<String>()
        let sequences = Set([UInt64(1), 2, 15, 16, 255, 256, 1 << 32, (1 << 48) - 1] + Array(1000..<21000))
        for sequence in sequences {
            var e = entry
            e.event.sequence = sequence
            let id = CloudTrailExport.eventID(e)
            let groups = id.split(separator: "-").map(\.count)
            #expect(groups == [8, 4, 4, 4, 12] && id.allSatisfy { $0 == "-" || $0.isHexDigit }, "\(id)")
            #expect(UInt64(id.suffix(12), radix: 16) == sequence, "\(id)")
            seen.insert(id)
        }
        #expect(seen.count == sequences.count)
    }
}

@Suite struct TextTimelineTests {
    @Test func valuesWithLineBreaksStayOnTheirLine() throws {
        let create = try history()[0]
        let text = TextTimeline(color: false, showUUID: true).render(create)
        #expect(text.contains("Tags.team: (none) → \"a,\\\"b\\\"\\nc\""))
        #expect(text.split(separator: "\n").dropFirst().allSatisfy { $0.hasPrefix("      ") })
    }

    @Test func colourOnlyWhenAsked() throws {
        let update = try history()[2]
        #expect(!TextTimeline(color: false, showUUID: false).render(update).contains("\u{1B}["))
        #expect(TextTimeline(color: true, showUUID: false).render(update).contains("\u{1B}[32m5\u{1B}[0m"))
    }
}
