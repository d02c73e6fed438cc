// The ceiling of the HTTP framework for the write-path benchmarks: Hummingbird 2 set up as
// `esmlog serve` sets it up (HTTP/1.1, its own responder, no router), answering every request
// with 200 and the same 941-byte JSON body that tools/trivial_server.c sends. It reads the
// request's body and does nothing else: no log, no state, no metrics. tools/bench_wrk.py runs it beside the trivial C server, so that what esmlog
// costs on top of its framework can be told from what the framework costs.
//
//     HummingbirdCeiling PORT [--event-loops]
//
// `--event-loops` runs Swift concurrency on SwiftNIO's event loops instead of its own threads
// (`NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor`).
// esmlog does not: it was tried, and did not raise its get rate (docs/performance.md).
// Listens on 127.0.0.1 only and prints "listening PORT" once it accepts.
import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix

let arguments = CommandLine.arguments.dropFirst()
guard let portText = arguments.first, let port = Int(portText), arguments.count <= 2,
      arguments.count == 1 || arguments.last == "--event-loops" else {
    FileHandle.standardError.write(Data("usage: HummingbirdCeiling PORT [--event-loops]\n".utf8))
    exit(2)
}
if arguments.last == "--event-loops" {
    NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
}

/// `{"Padding":"xxx…"}` of 941 bytes, the size of the trivial server's answer.
let body: ByteBuffer = {
    let frame = #"{"Padding":""}"#.utf8.count
    return ByteBuffer(string: #"{"Padding":""# + String(repeating: "x", count: 941 - frame) + #""}"#)
}()

struct Fixed: HTTPResponder {
    typealias Context = BasicRequestContext
    static let requestId = HTTPField.Name("x-amzn-RequestId")!

    func respond(to request: Request, context: Context) async throws -> Response {
        for try await _ in request.body {}
        return Response(status: .ok, headers: [.contentType: "application/json", Fixed.requestId: "00000000-0000-0000-0000-000000000000"],
                        body: ResponseBody(byteBuffer: body))
    }
}

let app = Application(
    responder: Fixed(), server: .http1(),
    configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: port), serverName: nil),
    onServerRunning: { channel in FileHandle.standardOutput.write(Data("listening \(channel.localAddress?.port ?? port)\n".utf8)) },
    logger: { var quiet = Logger(label: "HummingbirdCeiling"); quiet.logLevel = .error; return quiet }())
try await app.runService()
