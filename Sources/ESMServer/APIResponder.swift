import ESMCore
import ESMStorage
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOConcurrencyHelpers
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

    /// Set by `--auth sigv4`: every request's signature is checked against these keys.
    public var verifier: SigV4Verifier?
    /// Requests being answered at once; one more gets 429 TooManyRequestsException, so an
    /// overload costs a short answer, not memory.
    public var inFlightMax: Int = 512
    /// A request whose body is still arriving after this long gets 408 and its connection closed.
    public var requestTimeoutSeconds: Double = 30
    /// Where request counts and latencies go, and what `GET /metrics` shows.
    public var metrics = ServerMetrics()

    public init() {}
}

/// The mappings of one account, for the decider.
struct AccountView: MappingLookup {
    let state: any MappingLookup
    let account: String

    func mapping(_ uuid: String) -> Mapping? { state.mapping(uuid).flatMap { $0.account == account ? $0 : nil } }
    func mappings(eventSourceArn: String) -> [Mapping] { state.mappings(eventSourceArn: eventSourceArn).filter { $0.account == account } }
    func mappings(functionArn: String) -> [Mapping] { state.mappings(functionArn: functionArn).filter { $0.account == account } }
}

/// The caller of one request, as the operations need it.
struct Caller: Sendable {
    var actor: Actor
    /// The account whose ARNs the request makes.
    var account: String
    /// Whether the caller sees only its own account's mappings (true when signatures are verified).
    var scoped: Bool

    /// The state as this caller may see it: other accounts' mappings do not exist for it.
    func view(_ state: any MappingLookup) -> any MappingLookup {
        scoped ? AccountView(state: state, account: account) : state
    }

    /// The command context at a time the store chooses.
    var context: @Sendable (EventTime) -> CommandContext {
        { [actor, account] time in CommandContext(time: time, actor: actor, account: account) }
    }
}

/// The five ESM operations on the Lambda REST-JSON wire protocol (routes: `APIRoute`).
public struct APIResponder: HTTPResponder {
    public typealias Context = APIRequestContext

    let store: Store
    let configuration: APIConfiguration
    let inFlight = NIOLockedValueBox(0)

    public init(store: Store, configuration: APIConfiguration) {
        self.store = store
        self.configuration = configuration
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        let requestId = RandomUUID.string()
        let started = ContinuousClock.now
        var request = request
        let response: Response
        let route = APIRoute(method: request.method, path: request.uri.path)
        let admitted = inFlight.withLockedValue { n in
            guard n < configuration.inFlightMax else { return false }
            n += 1
            return true
        }
        defer { if admitted { inFlight.withLockedValue { $0 -= 1 } } }
        do {
            guard admitted else { throw APIResponder.tooManyRequests }
            response = try await perform(route, &request, context: context, requestId: requestId)
        } catch let error as AWSError {
            response = APIResponder.error(error, requestId: requestId)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            response = APIResponder.error(.service("Internal error."), requestId: requestId)
        }
        let duration = ContinuousClock.now - started
        configuration.metrics.request(operation: route.operation, status: response.status.code, duration: duration)
        guard context.logger.logLevel <= .info else { return response }
        var line: Logger.Metadata = [
            "esm.operation": "\(route.operation)", "http.status": "\(response.status.code)", "aws.request_id": "\(requestId)",
            "duration_us": "\(duration.nanoseconds / 1000)",
        ]
        if route == .unknown {
            line["http.method"] = "\(request.method.rawValue)"
            line["http.path"] = "\(request.uri.path)"
        }
        context.logger.info("request", metadata: line)
        return response
    }

    func perform(_ route: APIRoute, _ request: inout Request, context: Context, requestId: String) async throws -> Response {
        let body = try await collectBody(&request)
        // Scrapers do not sign: /metrics is open, like the port itself.
        if route == .metrics { return metrics() }
        let caller = try authenticate(request, body: body, context: context, requestId: requestId)
        switch route {
        case .create: return try await create(body: body, caller: caller)
        case .list: return try list(request, caller: caller)
        case .get(let uuid): return try get(uuid, caller: caller)
        case .update(let uuid): return try await update(uuid, body: body, caller: caller)
        case .delete(let uuid): return try await delete(uuid, caller: caller)
        case .listTags(let resource): return try listTags(resource, caller: caller)
        case .tagResource(let resource): return try await tag(resource, body: body, caller: caller)
        case .untagResource(let resource):
            return try await untag(resource, keys: request.uri.queryParameters.getAll("tagKeys"), caller: caller)
        case .metrics, .unknown: throw APIResponder.unknownOperation
        }
    }

    /// Who is calling. Without `--auth sigv4` the `Authorization` header is read but not
    /// checked; with it, the signature must verify or the request is refused with AWS's 403.
    func authenticate(_ request: Request, body: ByteBuffer, context: Context, requestId: String) throws -> Caller {
        let (keyId, region, account): (String, String, String?)
        let said = APIResponder.callerHeaders(request.headers)
        if let verifier = configuration.verifier {
            var headers = request.headers.map { (name: $0.name.canonicalName, value: $0.value) }
            if let authority = request.head.authority { headers.append((name: "host", value: authority)) }
            let signed = SignedRequest(
                method: request.method.rawValue, path: request.uri.path, query: request.uri.query, headers: headers,
                body: Array(body.readableBytesView))
            let verified = try verifier.verify(signed, now: Date())
            (keyId, region, account) = (verified.accessKeyId, verified.region, verified.account ?? configuration.account)
        } else {
            let identity = CallerIdentity(authorization: said.authorization)
            (keyId, region, account) = (identity.accessKeyId, identity.region, nil)
        }
        // The account is recorded in the actor only when a verified key acts in it.
        return Caller(
            actor: Actor(accessKeyId: keyId, sourceIp: context.remoteAddress, userAgent: said.userAgent ?? "",
                         requestId: requestId, region: region, verified: account != nil, account: account),
            account: account ?? configuration.account, scoped: account != nil)
    }

    /// `Authorization` and `User-Agent` in one pass over the fields, each joined with ", " when
    /// sent more than once, as `HTTPFields`' own lookup by name gives them (which first builds an
    /// index of every name in the request, for each request).
    static func callerHeaders(_ fields: HTTPFields) -> (authorization: String?, userAgent: String?) {
        var authorization: String?, userAgent: String?
        for field in fields {
            if field.name == .authorization {
                authorization = authorization.map { $0 + ", " + field.value } ?? field.value
            } else if field.name == .userAgent {
                userAgent = userAgent.map { $0 + ", " + field.value } ?? field.value
            }
        }
        return (authorization, userAgent)
    }

    /// AWS's throttling answer. The model gives it `Type`, `message`, `Reason` and a
    /// `Retry-After` header.
    static let tooManyRequests = AWSError(
        code: "TooManyRequestsException", status: 429, message: "Rate exceeded", messageMember: "message", type: "User",
        extra: JSONObject([("Reason", "CallerRateLimitExceeded")]), headers: ["Retry-After": "1"])

    static let requestTimeout = AWSError(
        code: "RequestTimeoutException", status: 408, message: "Request timed out", messageMember: "message", type: "User",
        headers: ["Connection": "close"])

    static let unknownOperation = AWSError(
        code: "UnknownOperationException", status: 404, message: "Unknown operation", messageMember: "Message", type: "User")

    // MARK: Operations

    func create(body: ByteBuffer, caller: Caller) async throws -> Response {
        let json = try APIResponder.parse(body)
        let uuid = RandomUUID.string()
        let context = caller.context
        let now = WallClock.now()
        // Checked before the store's lock is taken: only the duplicate check needs the state.
        let prepared = try Decider.prepareCreate(body: json, uuid: uuid, context: context(now)).get()
        let mapping = try await store.perform(uuid: uuid, now: now) { view, time in
            Decider.create(prepared, context: context(time), state: caller.view(view)).map { Optional($0) }
        }
        return APIResponder.mapping(mapping, status: 202, requestId: caller.actor.requestId)
    }

    func get(_ uuid: String, caller: Caller) throws -> Response {
        guard let mapping = store.read({ caller.view($0).mapping(uuid) }) else { throw AWSError.notFound }
        return APIResponder.mapping(mapping, status: 200, requestId: caller.actor.requestId)
    }

    func update(_ uuid: String, body: ByteBuffer, caller: Caller) async throws -> Response {
        let json = try APIResponder.parse(body)
        let context = caller.context
        let request = try Decider.updateRequest(json).get()  // before the store's lock
        let mapping = try await store.perform(uuid: uuid, now: WallClock.now()) { view, time in
            Decider.update(uuid: uuid, request: request, context: context(time), state: caller.view(view)).map { Optional($0) }
        }
        guard let mapping else { throw AWSError.notFound }
        return APIResponder.mapping(mapping, status: 202, requestId: caller.actor.requestId)
    }

    func delete(_ uuid: String, caller: Caller) async throws -> Response {
        let context = caller.context
        let mapping = try await store.perform(uuid: uuid, now: WallClock.now()) { view, time in
            Decider.delete(uuid: uuid, context: context(time), state: caller.view(view))
        }
        guard let mapping else { throw AWSError.notFound }
        return APIResponder.mapping(mapping, status: 202, requestId: caller.actor.requestId)
    }

    // MARK: Tags

    func listTags(_ resource: String, caller: Caller) throws -> Response {
        let tags = try store.read { Decider.listTags(resource, state: caller.view($0)) }.get()
        return APIResponder.json(["Tags": .object(tags)], status: 200, requestId: caller.actor.requestId)
    }

    func tag(_ resource: String, body: ByteBuffer, caller: Caller) async throws -> Response {
        let json = try APIResponder.parse(body)
        let uuid = Decider.mappingUUID(inResource: resource)
        let context = caller.context
        _ = try await store.perform(uuid: uuid, now: WallClock.now()) { view, time in
            Decider.tag(resource, body: json, context: context(time), state: caller.view(view))
        }
        return APIResponder.noContent(requestId: caller.actor.requestId)
    }

    func untag(_ resource: String, keys: [String], caller: Caller) async throws -> Response {
        let uuid = Decider.mappingUUID(inResource: resource)
        let context = caller.context
        _ = try await store.perform(uuid: uuid, now: WallClock.now()) { view, time in
            Decider.untag(resource, keys: keys, context: context(time), state: caller.view(view))
        }
        return APIResponder.noContent(requestId: caller.actor.requestId)
    }

    func metrics() -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers,
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: configuration.metrics.render(store))))
    }

    /// The page size when MaxItems is absent or larger: AWS returns at most 100 per page.
    static let pageSizeMax = 100

    func list(_ request: Request, caller: Caller) throws -> Response {
        let query = request.uri.queryParameters
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
            functionArn = FunctionReference(name, region: caller.actor.region, account: caller.account).arn
        }
        if let message = checker.message { throw AWSError.validation(message) }
        var after: UInt64?
        if let marker = query.get("Marker") {
            guard let s = APIResponder.parseMarker(marker) else { throw AWSError.invalidParameter("Invalid marker: \(marker)") }
            after = s
        }
        let account = caller.scoped ? caller.account : nil
        let (page, next) = store.read {
            $0.page(eventSourceArn: sourceArn, functionArn: functionArn, account: account, after: after, limit: max(limit, 1))
        }
        // {"EventSourceMappings":[...],"NextMarker":"..."}, written directly in canonical order.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1024 * max(page.count, 1))
        bytes.append(contentsOf: #"{"EventSourceMappings":["#.utf8)
        for i in page.indices {  // by index: each mapping is read in place, not copied out
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            page[i].writeResponse(to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
        if let next {
            bytes.append(contentsOf: #","NextMarker":"#.utf8)
            JSON.string(APIResponder.marker(next)).write(to: &bytes)
        }
        bytes.append(UInt8(ascii: "}"))
        return APIResponder.json(bytes: bytes, status: 200, requestId: caller.actor.requestId)
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
    func collectBody(_ request: inout Request) async throws -> ByteBuffer {
        var buffer = ByteBuffer()
        var total = 0
        let deadline = ContinuousClock.now + .milliseconds(Int64(configuration.requestTimeoutSeconds * 1000))
        for try await chunk in request.body {
            // A body trickling in is cut off here; one that stops altogether is closed by the
            // server's idle timeout.
            if ContinuousClock.now > deadline { throw APIResponder.requestTimeout }
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
        return buffer
    }

    static func parse(_ body: ByteBuffer) throws -> JSON {
        if body.readableBytes == 0 { return .object(JSONObject()) }
        do {
            return try JSON.parse(body.readableBytesView)
        } catch {
            throw AWSError.invalidContent("Could not parse payload into json: \(error)")
        }
    }

    static func json(_ value: JSON, status: Int, requestId: String) -> Response {
        json(bytes: value.canonicalBytes, status: status, requestId: requestId)
    }

    static func mapping(_ mapping: Mapping?, status: Int, requestId: String) -> Response {
        guard let mapping else { return json(.null, status: status, requestId: requestId) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1024)
        mapping.writeResponse(to: &bytes)
        return json(bytes: bytes, status: status, requestId: requestId)
    }

    static let requestIdName = HTTPField.Name("x-amzn-RequestId")!
    static let errorTypeName = HTTPField.Name("x-amzn-ErrorType")!

    static func json(bytes: [UInt8], status: Int, requestId: String) -> Response {
        let headers: HTTPFields = [.contentType: "application/json", requestIdName: requestId]
        return Response(
            status: HTTPResponse.Status(code: status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func noContent(requestId: String) -> Response {
        let headers: HTTPFields = [requestIdName: requestId]
        return Response(status: .noContent, headers: headers)
    }

    static func error(_ error: AWSError, requestId: String) -> Response {
        var response = json(error.body, status: error.status, requestId: requestId)
        response.headers[errorTypeName] = error.code
        for (name, value) in error.headers.sorted(by: { $0.key < $1.key }) { response.headers[HTTPField.Name(name)!] = value }
        return response
    }
}
