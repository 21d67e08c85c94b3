import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

@Suite("pom-orchestrate serve")
struct ServeCommandTests {
    @Test("serve reads its settings from the environment, answers on a free port, logs JSON lines and stops cleanly on SIGTERM")
    func serveAndStop() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pom-serve-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = Binaries.productsDirectory.appendingPathComponent("pom-orchestrate")
        process.arguments = ["serve", "--store", "sqlite:\(dir)/pom.sqlite", "--port", "0"]
        var env = Binaries.cleanEnvironment
        env["POM_WEBHOOK_PROVIDERS"] = "mailer"
        env["POM_WEBHOOK_SECRET"] = "s3cret"
        env["POM_REQUIRE_MODEL"] = "false"
        env["POM_LOG_FORMAT"] = "json"
        process.environment = env
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()

        // The "listening" log line carries the port the server bound.
        let reader = err.fileHandleForReading
        let port: Int = try await Task.detached {
            var text = ""
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                text += String(decoding: chunk, as: UTF8.self)
                for line in text.split(separator: "\n") {
                    guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                          object["msg"] as? String == "listening", let port = (object["port"] as? String).flatMap(Int.init) else { continue }
                    return port
                }
            }
            throw ServeFailure(log: text)
        }.value
        #expect(port > 0)

        let (data, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/healthz")!)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: data, as: UTF8.self) == #"{"status":"ok"}"#)
        let (_, ready) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/readyz")!)
        #expect((ready as? HTTPURLResponse)?.statusCode == 200)

        // The payment page is mounted: a tampered link gets the page's own plain error page.
        let (page, pageResponse) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/p/not-a-token")!)
        let pageHTTP = try #require(pageResponse as? HTTPURLResponse)
        #expect(pageHTTP.statusCode == 404)
        #expect(pageHTTP.value(forHTTPHeaderField: "Content-Type")?.hasPrefix("text/html") == true)
        #expect(String(decoding: page, as: UTF8.self).contains("<html"))

        process.terminate()  // SIGTERM
        process.waitUntilExit()
        let rest = String(decoding: reader.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "\(rest)")
        #expect(rest.contains(#""msg":"stopped""#), "\(rest)")
    }
}

struct ServeFailure: Error, CustomStringConvertible {
    var log: String
    var description: String { "pom-orchestrate serve did not log a listening port:\n\(log)" }
}
