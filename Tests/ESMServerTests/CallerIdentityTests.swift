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

    @Test func markersRoundTripAndRefuseGarbage() {
        for s: UInt64 in [1, 255, 1 << 40] { #expect(APIResponder.parseMarker(APIResponder.marker(s)) == s) }
        for bad in ["", "garbage", "v1.", "v1.zz", "v2.10"] { #expect(APIResponder.parseMarker(bad) == nil) }
    }
}
