import HTTPTypes
import Testing
@testable import ESMServer

@Suite struct CallerIdentityTests {
    @Test func accessKeyAndRegionComeFromTheCredentialScope() {
        let header = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261129/eu-west-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"
        #expect(CallerIdentity(authorization: header) == CallerIdentity(accessKeyId: "AKIDEXAMPLE", region: "eu-west-1"))
    }

    @Test(arguments: [
        nil, "", "Basic dXNlcjpwYXNz", "AWS4-HMAC-SHA256 Credential=AKID/2026/not a region/lambda/aws4_request",
        "AWS4-HMAC-SHA256 Credential=short", "AWS4-HMAC-SHA256 Credential=AKID/20261129/us-east-1x/lambda/aws4_request",
    ])
    func anythingElseFallsBackToTheDefaultRegion(_ header: String?) {
        #expect(CallerIdentity(authorization: header).region == "us-east-1")
    }

    @Test func govRegionsAreRegions() {
        let header = "AWS4-HMAC-SHA256 Credential=AKID/20261129/us-gov-west-1/lambda/aws4_request, Signature=x"
        #expect(CallerIdentity(authorization: header).region == "us-gov-west-1")
    }

    @Test(arguments: [
        ("AWS4-HMAC-SHA256 Credential=K/D/ap-southeast-2/s/aws4_request", "K", "ap-southeast-2"),
        ("AWS4-HMAC-SHA256 SignedHeaders=host, Credential=K2/D/eu-central-1/s/aws4_request,Signature=0", "K2", "eu-central-1"),
        ("AWS4-HMAC-SHA256 Credential=K/D/eu-west-1/s/aws4_request/extra", "K", "eu-west-1"),
        ("AWS4-HMAC-SHA256 Credential=/D/eu-west-1/s/aws4_request", "", "eu-west-1"),
        ("AWS4-HMAC-SHA256 Credential=K/D/eu-west-1/s, Signature=a/b/c/d", "", "us-east-1"),
        ("AWS4-HMAC-SHA256 Credential=K/D/EU-west-1/s/aws4_request", "K", "us-east-1"),
        ("AWS4-HMAC-SHA256 Credential=K/D/eu--1/s/aws4_request", "K", "us-east-1"),
        ("AWS4-HMAC-SHA256 Credential=K/D/eu-west-1-/s/aws4_request", "K", "us-east-1"),
        ("AWS4-HMAC-SHA256 Credential=K/D/eu-west-x/s/aws4_request", "K", "us-east-1"),
        ("AWS4-HMAC-SHA256 Credential=K/D/eur-west-1/s/aws4_request", "K", "us-east-1"),
        ("AWS4-HMAC-SHA256 Credential=K/D/a-b-c-d-1/s/aws4_request", "K", "us-east-1"),
        ("AWS4-HMAC-SHA256 Credentia", "", "us-east-1"),
    ])
    func theScopeIsReadByItsSlashes(_ header: String, _ key: String, _ region: String) {
        #expect(CallerIdentity(authorization: header) == CallerIdentity(accessKeyId: key, region: region))
    }

    @Test func regionsAreCheckedPartByPart() {
        for good in ["us-east-1", "us-gov-west-1", "cn-north-1", "eu-central-12", "ap-2b-3"] { #expect(CallerIdentity.isRegion(good[...]), "\(good)") }
        for bad in ["", "-", "us", "us-east", "us-east-", "-us-east-1", "us-east-1a", "u-east-1", "us-a-b-c-1", "us-East-1", "us-ea st-1"] {
            #expect(!CallerIdentity.isRegion(bad[...]), "\(bad)")
        }
    }

    @Test func callerHeadersAreWhatTheFieldsSayByName() {
        let auth = HTTPField.Name("AUTHORIZATION")!, agent = HTTPField.Name("user-agent")!
        let cases: [HTTPFields] = [
            [:],
            [.authorization: "AWS4-HMAC-SHA256 Credential=K/D/eu-west-1/s/aws4_request"],
            [.userAgent: "Boto3/1.43"],
            [.contentType: "application/json", auth: "A", .accept: "*/*", agent: "B"],
            HTTPFields([HTTPField(name: .authorization, value: "A1"), HTTPField(name: .userAgent, value: "U1"),
                        HTTPField(name: auth, value: "A2"), HTTPField(name: .userAgent, value: "U2")]),
        ]
        for fields in cases {
            let said = APIResponder.callerHeaders(fields)
            #expect(said.authorization == fields[.authorization], "\(fields)")
            #expect(said.userAgent == fields[.userAgent], "\(fields)")
        }
        #expect(APIResponder.callerHeaders(cases[4]) == ("A1, A2", "U1, U2"))
    }

    @Test func markersRoundTripAndRefuseGarbage() {
        for s: UInt64 in [1, 255, 1 << 40] { #expect(APIResponder.parseMarker(APIResponder.marker(s)) == s) }
        for bad in ["", "garbage", "v1.", "v1.zz", "v2.10"] { #expect(APIResponder.parseMarker(bad) == nil) }
    }
}
