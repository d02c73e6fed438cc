import HTTPTypes

/// Which operation a request names, from its method and path alone, so that every answer
/// (errors included) is counted and logged under its operation.
///
/// Routing is written out rather than left to a router, because the protocol has details a
/// generic router does not give: the collection path is sent both with and without a trailing
/// slash, and every answer, errors included, must look like AWS's.
enum APIRoute: Equatable {
    case metrics
    case create
    case list
    case get(uuid: String)
    case update(uuid: String)
    case delete(uuid: String)
    /// The tag operations; `resource` is the ARN, percent-decoded.
    case listTags(resource: String)
    case tagResource(resource: String)
    case untagResource(resource: String)
    /// No operation of this API has this method and path.
    case unknown

    static let collectionPath = "/2015-03-31/event-source-mappings"
    static let metricsPath = "/metrics"
    static let tagsPath = "/2017-03-31/tags/"

    init(method: HTTPRequest.Method, path: String) {
        if path == APIRoute.metricsPath {
            self = method == .get ? .metrics : .unknown
            return
        }
        if path.hasPrefix(APIRoute.tagsPath) {
            let resource = PercentEncoding.decode(path.dropFirst(APIRoute.tagsPath.count))
            switch method {
            case _ where resource.isEmpty: self = .unknown
            case .get: self = .listTags(resource: resource)
            case .post: self = .tagResource(resource: resource)
            case .delete: self = .untagResource(resource: resource)
            default: self = .unknown
            }
            return
        }
        guard path.hasPrefix(APIRoute.collectionPath) else {
            self = .unknown
            return
        }
        var rest = path.dropFirst(APIRoute.collectionPath.count)
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        if rest.isEmpty {
            switch method {
            case .post: self = .create
            case .get: self = .list
            default: self = .unknown
            }
            return
        }
        let uuid = String(rest.dropFirst())
        // A byte test: `String.contains(String)` is Foundation's, through NSString.
        guard rest.hasPrefix("/"), !uuid.isEmpty, !uuid.utf8.contains(UInt8(ascii: "/")) else {
            self = .unknown
            return
        }
        switch method {
        case .get: self = .get(uuid: uuid)
        case .put: self = .update(uuid: uuid)
        case .delete: self = .delete(uuid: uuid)
        default: self = .unknown
        }
    }

    /// The operation's name in metrics and log lines.
    var operation: String {
        switch self {
        case .metrics: "Metrics"
        case .create: "CreateEventSourceMapping"
        case .list: "ListEventSourceMappings"
        case .get: "GetEventSourceMapping"
        case .update: "UpdateEventSourceMapping"
        case .delete: "DeleteEventSourceMapping"
        case .listTags: "ListTags"
        case .tagResource: "TagResource"
        case .untagResource: "UntagResource"
        case .unknown: "UnknownOperation"
        }
    }
}
