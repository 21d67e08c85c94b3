import Foundation
import NIOCore
import NIOPosix
import NIOHTTP1
@testable import Channels

/// A real HTTP/1.1 server on 127.0.0.1 (port chosen by the kernel) that answers with scripted
/// replies in order (then with the default reply) and records every request it received.
final class TestHTTPServer: Sendable {
    struct Request: Sendable {
        var method: String
        var uri: String
        var headers: [(String, String)]
        var body: String

        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    struct Reply: Sendable {
        var status: Int
        var headers: [(String, String)] = []
        var body: String = ""
        /// Answer only after this long (to provoke client timeouts).
        var delay: TimeAmount? = nil
    }

    /// The requests seen and the replies still to give.
    final class Recorder: Sendable {
        let state: Locked<(requests: [Request], replies: [Reply])>
        let defaultReply: Reply

        init(replies: [Reply], defaultReply: Reply) {
            state = Locked(([], replies))
            self.defaultReply = defaultReply
        }

        /// Records `request` and returns the reply to give.
        func take(_ request: Request) -> Reply {
            state.withLock { s in
                s.requests.append(request)
                return s.replies.isEmpty ? defaultReply : s.replies.removeFirst()
            }
        }
    }

    let group: MultiThreadedEventLoopGroup
    let channel: any Channel
    let recorder: Recorder

    var port: Int { channel.localAddress!.port! }
    var url: URL { URL(string: "http://127.0.0.1:\(port)/v1/messages")! }
    var requests: [Request] { recorder.state.withLock { $0.requests } }

    init(replies: [Reply], defaultReply: Reply = Reply(status: 200, body: #"{"id": "default"}"#)) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let recorder = Recorder(replies: replies, defaultReply: defaultReply)
        self.group = group
        self.recorder = recorder
        self.channel = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(recorder: recorder))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func shutdown() async throws {
        try await channel.close()
        try await group.shutdownGracefully()
    }

    final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let recorder: Recorder
        var head: HTTPRequestHead?
        var body = ByteBuffer()

        init(recorder: Recorder) { self.recorder = recorder }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h):
                head = h
                body.clear()
            case .body(var b):
                body.writeBuffer(&b)
            case .end:
                guard let head else { return }
                let request = Request(method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) },
                                      body: String(buffer: body))
                let reply = recorder.take(request)
                if let delay = reply.delay {
                    let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                    context.eventLoop.scheduleTask(in: delay) {
                        let (handler, context) = loopBound.value
                        handler.respond(reply, context: context)
                    }
                } else {
                    respond(reply, context: context)
                }
            }
        }

        func respond(_ reply: Reply, context: ChannelHandlerContext) {
            guard context.channel.isActive else { return }
            var headers = HTTPHeaders(reply.headers)
            headers.replaceOrAdd(name: "Content-Length", value: String(reply.body.utf8.count))
            headers.replaceOrAdd(name: "Content-Type", value: "application/json")
            let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: reply.status), headers: headers)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: reply.body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
