import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Headless Chromium driven over the DevTools protocol through `--remote-debugging-pipe`: the
/// browser reads commands from file descriptor 3 and writes replies and events to descriptor 4,
/// each a JSON object ending in a NUL byte. No WebSocket, no port to race for.
final class Chromium: @unchecked Sendable {
    static let candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
    static var binary: String? { candidates.first { FileManager.default.isExecutableFile(atPath: $0) } }
    static var required: Bool { !(ProcessInfo.processInfo.environment["POM_REQUIRE_BROWSER"] ?? "").isEmpty }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let pid: pid_t
    let commands: Int32
    let replies: Int32
    let profile: String
    private var buffer: [UInt8] = []
    private var events: [[String: Any]] = []
    private var nextId = 1
    private let queue = DispatchQueue(label: "chromium-devtools")

    /// Starts the browser with a fresh profile in `profile`.
    init(binary: String, profile: String) throws {
        try FileManager.default.createDirectory(atPath: profile, withIntermediateDirectories: true)
        self.profile = profile
        var toChild: [Int32] = [0, 0], fromChild: [Int32] = [0, 0]
        guard pipe(&toChild) == 0, pipe(&fromChild) == 0 else { throw Failure(description: "pipe: errno \(errno)") }
        // Copies above the low descriptors, close-on-exec, so that dup2 onto 3 and 4 never meets itself.
        let childIn = fcntl(toChild[0], F_DUPFD_CLOEXEC, 10), childOut = fcntl(fromChild[1], F_DUPFD_CLOEXEC, 10)
        close(toChild[0])
        close(fromChild[1])
        _ = fcntl(toChild[1], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fromChild[0], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, profile + "/browser.log", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_adddup2(&actions, childIn, 3)
        posix_spawn_file_actions_adddup2(&actions, childOut, 4)
        let arguments = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                         "--no-default-browser-check", "--disable-extensions", "--user-data-dir=\(profile)", "--remote-debugging-pipe",
                         "--window-size=412,915", "about:blank"]
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = profile
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, binary, &actions, nil, argv, envp)
        close(childIn)
        close(childOut)
        guard status == 0 else { throw Failure(description: "posix_spawn \(binary): \(status)") }
        self.pid = pid
        commands = toChild[1]
        replies = fromChild[0]
    }

    /// Ends the browser and waits for it.
    func stop() {
        _ = try? callSync("Browser.close", [:], session: nil, timeout: 5)
        close(commands)
        var status: Int32 = 0
        for _ in 0..<50 {
            if waitpid(pid, &status, WNOHANG) == pid { close(replies); return }
            usleep(100_000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
        close(replies)
    }

    /// The browser's log (for failure messages).
    var log: String { (try? String(contentsOfFile: profile + "/browser.log", encoding: .utf8)).map { String($0.suffix(3000)) } ?? "" }

    /// JSON objects handed between the protocol queue and the test (they are never shared).
    struct JSONBox: @unchecked Sendable {
        let value: [String: Any]
    }

    /// Sends a command and returns its `result`.
    func call(_ method: String, _ params: [String: Any] = [:], session: String? = nil, timeout: Double = 30) async throws -> [String: Any] {
        let p = JSONBox(value: params)
        let box: JSONBox = try await withCheckedThrowingContinuation { c in
            queue.async {
                do { c.resume(returning: JSONBox(value: try self.callSync(method, p.value, session: session, timeout: timeout))) } catch {
                    c.resume(throwing: error)
                }
            }
        }
        return box.value
    }

    /// Waits for an event `method` (of `session`) that arrived after the last `clearEvents`.
    func event(_ method: String, session: String?, timeout: Double = 30) async throws -> [String: Any] {
        let box: JSONBox = try await withCheckedThrowingContinuation { c in
            queue.async {
                do { c.resume(returning: JSONBox(value: try self.eventSync(method, session: session, timeout: timeout))) } catch {
                    c.resume(throwing: error)
                }
            }
        }
        return box.value
    }

    /// Forgets the events received so far.
    func clearEvents() async {
        await withCheckedContinuation { c in queue.async { self.events.removeAll(); c.resume() } }
    }

    /// Evaluates `expression` in the page and returns its value (JSON-compatible).
    func evaluate(_ expression: String, session: String) async throws -> Any? {
        let r = try await call("Runtime.evaluate", ["expression": expression, "returnByValue": true, "awaitPromise": true], session: session)
        if let details = r["exceptionDetails"] { throw Failure(description: "evaluating \(expression): \(details)") }
        return (r["result"] as? [String: Any])?["value"]
    }

    private func callSync(_ method: String, _ params: [String: Any], session: String?, timeout: Double) throws -> [String: Any] {
        let id = nextId
        nextId += 1
        var message: [String: Any] = ["id": id, "method": method, "params": params]
        if let session { message["sessionId"] = session }
        var data = try JSONSerialization.data(withJSONObject: message)
        data.append(0)
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(commands, raw.baseAddress! + offset, raw.count - offset)
                guard n > 0 else { throw Failure(description: "writing to the browser: errno \(errno); log: \(log)") }
                offset += n
            }
        }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let m = try readMessage(until: deadline, waitingFor: method)
            if let mid = m["id"] as? Int, mid == id {
                if let error = m["error"] { throw Failure(description: "\(method): \(error)") }
                return m["result"] as? [String: Any] ?? [:]
            }
            if m["method"] != nil { events.append(m) }
        }
    }

    private func eventSync(_ method: String, session: String?, timeout: Double) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let i = events.firstIndex(where: { $0["method"] as? String == method && $0["sessionId"] as? String == session }) {
                return events.remove(at: i)
            }
            let m = try readMessage(until: deadline, waitingFor: method)
            if m["method"] != nil { events.append(m) }
        }
    }

    private func readMessage(until deadline: Date, waitingFor what: String) throws -> [String: Any] {
        while true {
            if let end = buffer.firstIndex(of: 0) {
                let bytes = Array(buffer[..<end])
                buffer.removeSubrange(...end)
                guard let object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { continue }
                return object
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { throw Failure(description: "no answer from the browser for \(what); log: \(log)") }
            var fds = pollfd(fd: replies, events: Int16(POLLIN), revents: 0)
            let ready = poll(&fds, 1, Int32(min(left, 1) * 1000))
            if ready <= 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let n = read(replies, &chunk, chunk.count)
            guard n > 0 else { throw Failure(description: "the browser closed its pipe while waiting for \(what); log: \(log)") }
            buffer.append(contentsOf: chunk[..<n])
        }
    }
}

/// A page tab of the browser.
struct BrowserTab {
    let browser: Chromium
    let session: String

    /// A new tab whose requests say `Accept-Language: acceptLanguage`, as a phone set to that language would.
    static func open(_ browser: Chromium, acceptLanguage: String) async throws -> BrowserTab {
        let target = try await browser.call("Target.createTarget", ["url": "about:blank"])
        guard let targetId = target["targetId"] as? String else { throw Chromium.Failure(description: "no target: \(target)") }
        let attached = try await browser.call("Target.attachToTarget", ["targetId": targetId, "flatten": true])
        guard let session = attached["sessionId"] as? String else { throw Chromium.Failure(description: "no session: \(attached)") }
        _ = try await browser.call("Page.enable", session: session)
        _ = try await browser.call("Network.enable", session: session)
        _ = try await browser.call("Network.setExtraHTTPHeaders", ["headers": ["Accept-Language": acceptLanguage]], session: session)
        return BrowserTab(browser: browser, session: session)
    }

    /// Loads `url` and waits for its load event.
    func navigate(_ url: String) async throws {
        await browser.clearEvents()
        let r = try await browser.call("Page.navigate", ["url": url], session: session)
        if let error = r["errorText"] as? String { throw Chromium.Failure(description: "navigating to \(url): \(error)") }
        _ = try await browser.event("Page.loadEventFired", session: session)
    }

    func evaluate(_ expression: String) async throws -> Any? { try await browser.evaluate(expression, session: session) }

    /// A PNG screenshot of the whole page (for a person to look at).
    func screenshot() async throws -> Data {
        let r = try await browser.call("Page.captureScreenshot", ["format": "png", "captureBeyondViewport": true], session: session)
        guard let b64 = r["data"] as? String, let data = Data(base64Encoded: b64) else { throw Chromium.Failure(description: "no screenshot") }
        return data
    }

    /// Focuses the element with `id` and types `text` into it, as a keyboard would.
    func type(_ text: String, into id: String) async throws {
        _ = try await evaluate("(() => { const e = document.getElementById('\(id)'); e.scrollIntoView(); e.focus(); e.select && e.select(); return true })()")
        _ = try await browser.call("Input.insertText", ["text": text], session: session)
    }

    /// Clicks the middle of the element with `id` with the mouse and, when that submits a form,
    /// waits for the next page's load event.
    func click(_ id: String, loadsPage: Bool = false) async throws {
        let rect = try await evaluate("""
            (() => { const e = document.getElementById('\(id)'); e.scrollIntoView({block: 'center'});
              const r = e.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()
            """) as? [Double]
        guard let rect, rect.count == 2 else { throw Chromium.Failure(description: "no element #\(id)") }
        await browser.clearEvents()
        for type in ["mousePressed", "mouseReleased"] {
            _ = try await browser.call("Input.dispatchMouseEvent",
                                       ["type": type, "x": rect[0], "y": rect[1], "button": "left", "clickCount": 1], session: session)
        }
        if loadsPage { _ = try await browser.event("Page.loadEventFired", session: session) }
    }
}
