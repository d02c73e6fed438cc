/// An error as AWS Lambda answers it: code, HTTP status and the body members AWS sends.
///
/// The body differs by error in ways clients see: `ResourceNotFoundException` and
/// `ResourceInUseException` carry `Message`, `InvalidParameterValueException` and
/// `ResourceConflictException` carry lower-case `message`, and `ValidationException` has no
/// `Type` member at all.
public struct AWSError: Error, Sendable, Equatable {
    public var code: String
    public var status: Int
    public var message: String
    /// The body member that holds the message: `Message` or `message`.
    public var messageMember: String
    /// The `Type` member (`User` or `Service`), absent for ValidationException.
    public var type: String?
    /// Further body members (`Reason` of TooManyRequestsException).
    public var extra: JSONObject
    /// Further response headers (`Retry-After`).
    public var headers: [String: String]

    public init(code: String, status: Int, message: String, messageMember: String, type: String?,
                extra: JSONObject = JSONObject(), headers: [String: String] = [:]) {
        self.code = code
        self.status = status
        self.message = message
        self.messageMember = messageMember
        self.type = type
        self.extra = extra
        self.headers = headers
    }

    /// The JSON body AWS sends for this error.
    public var body: JSON {
        var o = extra
        o[messageMember] = .string(message)
        if let type { o["Type"] = .string(type) }
        return .object(o)
    }

    public static func invalidParameter(_ message: String) -> AWSError {
        AWSError(code: "InvalidParameterValueException", status: 400, message: message, messageMember: "message", type: "User")
    }

    public static func validation(_ message: String) -> AWSError {
        AWSError(code: "ValidationException", status: 400, message: message, messageMember: "message", type: nil)
    }

    public static let notFound = AWSError(
        code: "ResourceNotFoundException", status: 404,
        message: "The resource you requested does not exist.", messageMember: "Message", type: "User")

    public static func conflict(_ message: String) -> AWSError {
        AWSError(code: "ResourceConflictException", status: 409, message: message, messageMember: "message", type: "User")
    }

    public static func inUse(_ message: String) -> AWSError {
        AWSError(code: "ResourceInUseException", status: 400, message: message, messageMember: "Message", type: "User")
    }

    /// A body that is not JSON, or a member of the wrong JSON type.
    public static func invalidContent(_ detail: String) -> AWSError {
        AWSError(
            code: "InvalidRequestContentException", status: 400,
            message: "Could not parse request body into json: \(detail)", messageMember: "message", type: "User")
    }

    public static func service(_ message: String) -> AWSError {
        AWSError(code: "ServiceException", status: 500, message: message, messageMember: "Message", type: "Service")
    }
}
