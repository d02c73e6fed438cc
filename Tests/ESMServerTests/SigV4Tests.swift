import ESMCore
import Foundation
import Testing
@testable import ESMServer

@Suite struct SigV4Tests {
    /// The worked example of AWS's Signature Version 4 documentation (IAM ListUsers).
    static let example = SignedRequest(
        method: "GET", path: "/", query: "Action=ListUsers&Version=2010-05-08",
        headers: [
            (name: "Host", value: "iam.amazonaws.com"),
            (name: "Content-Type", value: "application/x-www-form-urlencoded; charset=utf-8"),
            (name: "X-Amz-Date", value: "20150830T123600Z"),
            (name: "Authorization", value: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
                + "SignedHeaders=content-type;host;x-amz-date, "
                + "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"),
        ],
        body: [])
    static let exampleKeys = CredentialsFile(keys: ["AKIDEXAMPLE": .init(secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", account: nil)])
    static let exampleTime = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z

    @Test func documentedExampleVerifies() throws {
        let verifier = SigV4Verifier(credentials: SigV4Tests.exampleKeys, service: "iam")
        let caller = try verifier.verify(SigV4Tests.example, now: SigV4Tests.exampleTime)
        #expect(caller == VerifiedCaller(accessKeyId: "AKIDEXAMPLE", region: "us-east-1", account: nil))
    }

    @Test func documentedExampleCanonicalRequest() {
        let canonical = SigV4Verifier.canonicalRequest(SigV4Tests.example, signedHeaders: ["content-type", "host", "x-amz-date"])
        #expect(canonical == """
            GET
            /
            Action=ListUsers&Version=2010-05-08
            content-type:application/x-www-form-urlencoded; charset=utf-8
            host:iam.amazonaws.com
            x-amz-date:20150830T123600Z

            content-type;host;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
    }

    @Test func anotherSecretDoesNotVerify() {
        let keys = CredentialsFile(keys: ["AKIDEXAMPLE": .init(secret: "other", account: nil)])
        #expect(throws: AWSError.self) { try SigV4Verifier(credentials: keys, service: "iam").verify(SigV4Tests.example, now: SigV4Tests.exampleTime) }
    }

    @Test func canonicalURIEncodesTheSentPathOnceMore() {
        #expect(SigV4Verifier.canonicalURI("/2015-03-31/event-source-mappings/") == "/2015-03-31/event-source-mappings/")
        #expect(SigV4Verifier.canonicalURI("/a/./b/../c//d") == "/a/c/d")
        #expect(SigV4Verifier.canonicalURI("/x%3Ay z") == "/x%253Ay%20z")
        #expect(SigV4Verifier.canonicalURI("") == "/")
    }

    @Test func canonicalQueryIsDecodedEncodedAndSorted() {
        #expect(SigV4Verifier.canonicalQuery("b=2&a=%7e&a=1&c") == "a=1&a=~&b=2&c=")
        #expect(SigV4Verifier.canonicalQuery("Marker=v1.a%2Fb") == "Marker=v1.a%2Fb")
        #expect(SigV4Verifier.canonicalQuery(nil) == "")
    }

    @Test func amzDatesRoundTrip() {
        let d = SigV4Verifier.parseAmzDate("20261129T084500Z")
        #expect(d == Date(timeIntervalSince1970: 1_795_941_900))
        #expect(d.map(SigV4Verifier.formatAmzDate) == "20261129T084500Z")
        for bad in ["2026-11-29T08:45:00Z", "20261129T084500", "20261329T084500Z", "2026112xT084500Z"] {
            #expect(SigV4Verifier.parseAmzDate(bad) == nil)
        }
    }

    @Test func credentialsFileReadsSectionsAndNamesMistakes() throws {
        let file = try CredentialsFile(text: """
            # comment
            [a]
            aws_access_key_id = AKIA1
            aws_secret_access_key = s1
            aws_account_id = 111122223333
            ; another comment
            [b]
            AWS_ACCESS_KEY_ID=AKIA2
            aws_secret_access_key= s=2
            """)
        #expect(file.keys == ["AKIA1": .init(secret: "s1", account: "111122223333"), "AKIA2": .init(secret: "s=2", account: nil)])
        let mistakes = [
            "aws_access_key_id = x": "line 1: setting outside a [section]",
            "[a]\naws_access_key_id = x\n": "line 1: section [a] has no aws_secret_access_key",
            "[a]\naws_secret_access_key = x": "line 1: section [a] has no aws_access_key_id",
            "[a]\naws_access_key_id = x\naws_secret_access_key = y\naws_account_id = 12": "line 1: aws_account_id must be 12 digits",
            "[a]\naws_access_key_id = x\naws_secret_access_key = y\n[b]\naws_access_key_id = x\naws_secret_access_key = z":
                "line 4: key x appears twice",
            "[a\n": "line 1: unclosed section name",
            "": "no keys",
        ]
        for (text, message) in mistakes {
            #expect(throws: CredentialsFile.ParseError(description: message)) { try CredentialsFile(text: text) }
        }
    }

    /// Vectors of AWS's published Signature Version 4 test suite (service `service`,
    /// us-east-1, 2015-08-30T12:36:00Z, the example key), written out here by hand: each request
    /// as sent, with the signature the suite gives for it.
    static func suiteRequest(path: String, query: String? = nil, headers: [(String, String)], signedHeaders: String, signature: String) -> SignedRequest {
        SignedRequest(
            method: "GET", path: path, query: query,
            headers: [("Host", "example.amazonaws.com")] + headers.map { (name: $0.0, value: $0.1) } + [
                (name: "X-Amz-Date", value: "20150830T123600Z"),
                (name: "Authorization", value: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                    + "SignedHeaders=\(signedHeaders), Signature=\(signature)"),
            ].map { (name: $0.name, value: $0.value) },
            body: [])
    }

    static let suite: [(name: String, request: SignedRequest)] = [
        ("get-vanilla", suiteRequest(path: "/", headers: [], signedHeaders: "host;x-amz-date",
                                     signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")),
        ("get-header-value-trim", suiteRequest(
            path: "/", headers: [("My-Header1", " value1"), ("My-Header2", " \"a   b   c\"")],
            signedHeaders: "host;my-header1;my-header2;x-amz-date", signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736")),
        ("get-header-key-duplicate", suiteRequest(
            path: "/", headers: [("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1")],
            signedHeaders: "host;my-header1;x-amz-date", signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea")),
        ("get-header-value-multiline", suiteRequest(
            path: "/", headers: [("My-Header1", "value1\n  value2\n     value3")],
            signedHeaders: "host;my-header1;x-amz-date", signature: "ba17b383a53190154eb5fa66a1b836cc297cc0a3d70a5d00705980573d8ff790")),
        ("normalize-path/get-relative-relative", suiteRequest(
            path: "/example1/example2/../..", headers: [], signedHeaders: "host;x-amz-date",
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")),
        ("normalize-path/get-slash-dot-slash", suiteRequest(
            path: "/./", headers: [], signedHeaders: "host;x-amz-date",
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")),
        ("get-vanilla-query-order-key-case", suiteRequest(
            path: "/", query: "Param2=value2&Param1=value1", headers: [], signedHeaders: "host;x-amz-date",
            signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")),
        ("get-vanilla-query-order-encoded", suiteRequest(
            path: "/", query: "Param-3=Value3&Param=Value2&%E1%88%B4=Value1", headers: [], signedHeaders: "host;x-amz-date",
            signature: "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac")),
    ]

    @Test(arguments: SigV4Tests.suite.map(\.name))
    func publishedTestSuiteVectorsVerify(name: String) throws {
        let request = try #require(SigV4Tests.suite.first { $0.name == name }?.request)
        let verifier = SigV4Verifier(credentials: SigV4Tests.exampleKeys, service: "service")
        #expect(try verifier.verify(request, now: SigV4Tests.exampleTime).accessKeyId == "AKIDEXAMPLE")
    }

    @Test func headerValuesAreTrimmedAndSpacesCollapsedButCommasKeepTheirSpace() {
        #expect(SigV4Verifier.canonicalHeaderValue(["a, b"]) == "a, b")
        #expect(SigV4Verifier.canonicalHeaderValue(["  a,   b  ,c "]) == "a, b ,c")
        #expect(SigV4Verifier.canonicalHeaderValue(["\"a   b   c\""]) == "\"a b c\"")
        #expect(SigV4Verifier.canonicalHeaderValue(["value2", "value2", "value1"]) == "value2,value2,value1")
        #expect(SigV4Verifier.canonicalHeaderValue(["value1\n  value2\r\n value3"]) == "value1,value2,value3")
    }
}
