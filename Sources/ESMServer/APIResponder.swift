import ESMCore
import ESMStorage
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The request context: Hummingbird's core storage plus the peer's address.
public struct APIRequestContext: Hummingbird.RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress ?? ""
    }
}

/// Settings of the API.
public struct APIConfiguration: Sendable {
    /// The account id in the ARNs esmlog makes.
    public var account: String = "000000000000"
    /// Request bodies above this size are refused with 413.
    public var bodyBytesMax: Int = 256 * 1024
    /// An oversized body is read and discarded up to this size so that the client, still
    /// sending, receives the 413; past it the connection is closed.
    public static let bodyDrainBytesMax = 64 << 20

    public init() {}
}

/// The five ESM operations on the Lambda REST-JSON wire protocol.
///
/// Routing is written out rather than left to a router, because the protocol has details a
/// generic router does not give: the collection path is sent both with and without a trailing
/// slash, and every answer, errors included, must look like AWS's.
public struct APIResponder: HTTPResponder {
    public typealias Context = APIRequestContext

    public static let collectionPath = "/2015-03-31/event-source-mappings"

    let store: Store
    let configuration: APIConfiguration

    public init(store: Store, configuration: APIConfiguration) {
        self.store = store
        self.configuration = configuration
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        let requestId = UUID().uuidString.lowercased()
        let started = ContinuousClock.now
        var request = request
        let response: Response
        let operation: String
        do {
            (operation, response) = try await route(&request, context: context, requestId: requestId)
        } catch let error as AWSError {
            operation = "Error"
            response = APIResponder.error(error, requestId: requestId)
        } catch {
            operation = "Error"
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            response = APIResponder.error(.service("Internal error."), requestId: requestId)
        }
        context.logger.info("request", metadata: [
            "esm.operation": "\(operation)", "http.status": "\(response.status.code)", "aws.request_id": "\(requestId)",
            "duration_us": "\((ContinuousClock.now - started).components.attoseconds / 1_000_000_000_000)",
        ])
        return response
    }

    func route(_ request: inout Request, context: Context, requestId: String) async throws -> (String, Response) {
        let path = request.uri.path
        guard path.hasPrefix(APIResponder.collectionPath) else { throw APIResponder.unknownOperation }
        var rest = path.dropFirst(APIResponder.collectionPath.count)
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        if rest.isEmpty {
            switch request.method {
            case .post: return ("CreateEventSourceMapping", try await create(&request, context: context, requestId: requestId))
            case .get: return ("ListEventSourceMappings", try list(request, context: context, requestId: requestId))
            default: throw APIResponder.unknownOperation
            }
        }
        guard rest.hasPrefix("/") else { throw APIResponder.unknownOperation }
        let uuid = String(rest.dropFirst())
        guard !uuid.isEmpty, !uuid.contains("/") else { throw APIResponder.unknownOperation }
        switch request.method {
        case .get: return ("GetEventSourceMapping", try get(uuid, requestId: requestId))
        case .put: return ("UpdateEventSourceMapping", try await update(uuid, &request, context: context, requestId: requestId))
        case .delete: return ("DeleteEventSourceMapping", try await delete(uuid, request, context: context, requestId: requestId))
        default: throw APIResponder.unknownOperation
        }
    }

    static let unknownOperation = AWSError(
        code: "UnknownOperationException", status: 404, message: "Unknown operation", messageMember: "Message", type: "User")

    // MARK: Operations

    func create(_ request: inout Request, context: Context, requestId: String) async throws -> Response {
        let body = try await readBody(&request)
        let actor = self.actor(request, context: context, requestId: requestId)
        let uuid = UUID().uuidString.lowercased()
        let account = configuration.account
        let mapping = try await store.perform(uuid: uuid, now: WallClock.now()) { view, time in
            Decider.create(body: body, uuid: uuid, context: CommandContext(time: time, actor: actor, account: account), state: view)
                .map { Optional($0) }
        }
        return APIResponder.json(mapping?.response ?? .null, status: 202, requestId: requestId)
    }

    func get(_ uuid: String, requestId: String) throws -> Response {
        guard let mapping = store.read({ $0.mappings[uuid] }) else { throw AWSError.notFound }
        return APIResponder.json(mapping.response, status: 200, requestId: requestId)
    }

    func update(_ uuid: String, _ request: inout Request, context: Context, requestId: String) async throws -> Response {
        let body = try await readBody(&request)
        let actor = self.actor(request, context: context, requestId: requestId)
        let account = configuration.account
        let mapping = try await store.perform(uuid: uuid, now: WallClock.now()) { view, time in
            Decider.update(uuid: uuid, body: body, context: CommandContext(time: time, actor: actor, account: account), state: view)
                .map { Optional($0) }
        }
        guard let mapping else { throw AWSError.notFound }
        return APIResponder.json(mapping.response, status: 202, requestId: requestId)
    }

    func delete(_ uuid: String, _ request: Request, context: Context, requestId: String) async throws -> Response {
        let actor = self.actor(request, context: context, requestId: requestId)
        let account = configuration.account
        let mapping = try await store.perform(uuid: uuid, now: WallClock.now()) { view, time in
            Decider.delete(uuid: uuid, context: CommandContext(time: time, actor: actor, account: account), state: view)
        }
        guard let mapping else { throw AWSError.notFound }
        return APIResponder.json(mapping.response, status: 202, requestId: requestId)
    }

    /// The page size when MaxItems is absent or larger: AWS returns at most 100 per page.
    static let pageSizeMax = 100

    func list(_ request: Request, context: Context, requestId: String) throws -> Response {
        let query = request.uri.queryParameters
        let identity = CallerIdentity(authorization: request.headers[.authorization])
        var checker = ShapeChecker()
        var limit = APIResponder.pageSizeMax
        if let text = query.get("MaxItems") {
            guard let n = Int(text) else {
                throw AWSError.validation(
                    "1 validation error detected: Value '\(text)' at 'maxItems' failed to satisfy constraint: Member must be an integer")
            }
            _ = try? checker.check(.number(Double(n)), .integer(min: 1, max: 10000), path: "maxItems")
            limit = min(n, APIResponder.pageSizeMax)
        }
        let sourceArn = query.get("EventSourceArn")
        var functionArn: String?
        if let name = query.get("FunctionName") {
            _ = try? checker.check(.string(name), .string(min: 1, max: 256, pattern: RequestShapes.functionNamePattern), path: "functionName")
            functionArn = FunctionReference(name, region: identity.region, account: configuration.account).arn
        }
        if let message = checker.message { throw AWSError.validation(message) }
        var after: UInt64?
        if let marker = query.get("Marker") {
            guard let s = APIResponder.parseMarker(marker) else { throw AWSError.invalidParameter("Invalid marker: \(marker)") }
            after = s
        }
        let (page, next) = store.read { $0.page(eventSourceArn: sourceArn, functionArn: functionArn, after: after, limit: max(limit, 1)) }
        var body = JSONObject()
        body["EventSourceMappings"] = .array(page.map(\.response))
        if let next { body["NextMarker"] = .string(APIResponder.marker(next)) }
        return APIResponder.json(.object(body), status: 200, requestId: requestId)
    }

    /// A Marker names the creation sequence of the last mapping returned. It is opaque to
    /// clients; the prefix lets a later format change tell its own markers apart.
    static func marker(_ sequence: UInt64) -> String { "v1." + String(sequence, radix: 16) }

    static func parseMarker(_ text: String) -> UInt64? {
        guard text.hasPrefix("v1.") else { return nil }
        return UInt64(text.dropFirst(3), radix: 16)
    }

    // MARK: Helpers

    /// Reads the body. One over the limit is read to its end (up to `bodyDrainBytesMax`) and
    /// discarded before the 413 is sent, so that a client still sending its body is not cut off
    /// before it can read the answer.
    func readBody(_ request: inout Request) async throws -> JSON {
        var buffer = ByteBuffer()
        var total = 0
        for try await chunk in request.body {
            total += chunk.readableBytes
            if total <= configuration.bodyBytesMax {
                var part = chunk
                buffer.writeBuffer(&part)
            } else if total > APIConfiguration.bodyDrainBytesMax {
                break
            }
        }
        if total > configuration.bodyBytesMax {
            throw AWSError(
                code: "RequestTooLargeException", status: 413,
                message: "Request must be smaller than \(configuration.bodyBytesMax) bytes for the EventSourceMapping operations",
                messageMember: "message", type: "User")
        }
        if buffer.readableBytes == 0 { return .object(JSONObject()) }
        do {
            return try JSON.parse(buffer.readableBytesView)
        } catch {
            throw AWSError.invalidContent("Could not parse payload into json: \(error)")
        }
    }

    func actor(_ request: Request, context: Context, requestId: String) -> Actor {
        let identity = CallerIdentity(authorization: request.headers[.authorization])
        return Actor(
            accessKeyId: identity.accessKeyId, sourceIp: context.remoteAddress,
            userAgent: request.headers[.userAgent] ?? "", requestId: requestId, region: identity.region)
    }

    static func json(_ value: JSON, status: Int, requestId: String) -> Response {
        let bytes = value.canonicalBytes
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[HTTPField.Name("x-amzn-RequestId")!] = requestId
        return Response(
            status: HTTPResponse.Status(code: status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func error(_ error: AWSError, requestId: String) -> Response {
        var response = json(error.body, status: error.status, requestId: requestId)
        response.headers[HTTPField.Name("x-amzn-ErrorType")!] = error.code
        return response
    }
}
