/// What the `Authorization` header says about the caller, read without checking the signature.
///
/// `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261129/us-east-1/lambda/aws4_request, ...`
/// gives the access key id and the region of the credential scope.
public struct CallerIdentity: Sendable, Equatable {
    public static let regionDefault = "us-east-1"

    public var accessKeyId: String
    public var region: String

    public init(accessKeyId: String, region: String) {
        self.accessKeyId = accessKeyId
        self.region = region
    }

    public init(authorization: String?) {
        accessKeyId = ""
        region = CallerIdentity.regionDefault
        guard let header = authorization, header.hasPrefix("AWS4-HMAC-SHA256") else { return }
        for part in header.dropFirst("AWS4-HMAC-SHA256".count).split(separator: ",") {
            let item = part.drop { $0 == " " }
            guard item.hasPrefix("Credential=") else { continue }
            let scope = item.dropFirst("Credential=".count).split(separator: "/", omittingEmptySubsequences: false)
            if scope.count >= 5 {
                accessKeyId = String(scope[0])
                if CallerIdentity.isRegion(scope[2]) { region = String(scope[2]) }
            }
        }
    }

    /// A region name as ARNs accept it: `us-east-1`, `us-gov-west-1`.
    static func isRegion(_ s: Substring) -> Bool {
        let parts = s.split(separator: "-")
        return parts.count >= 3 && parts.count <= 4 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isLetter && $0.isLowercase || $0.isNumber } }
            && parts.last!.allSatisfy(\.isNumber) && parts.first!.count == 2
    }
}
