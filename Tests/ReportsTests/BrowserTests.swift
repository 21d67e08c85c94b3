import FeatureStore
import FeatureStoreBackends
import Foundation
import Reports
import Testing

/// Renders `report.html` in headless Chromium (Debian's `chromium` package) and checks the DOM
/// the browser built: the survival plot with one curve and one band per arm, the channel chart
/// and the verdict. Skips only when no browser is installed and `POM_REQUIRE_BROWSER` is unset
/// (`scripts/test` sets it).
@Suite(.serialized) struct BrowserTests {
    static let candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
    static var browser: String? { candidates.first { FileManager.default.isExecutableFile(atPath: $0) } }
    static var required: Bool { !(ProcessInfo.processInfo.environment["POM_REQUIRE_BROWSER"] ?? "").isEmpty }

    struct MissingBrowser: Error, CustomStringConvertible {
        var description: String {
            "POM_REQUIRE_BROWSER is set but no Chromium was found at \(BrowserTests.candidates.joined(separator: ", ")); install it with `apt-get install chromium` (scripts/setup does)"
        }
    }

    /// Runs the browser headless with `arguments` and returns its standard output.
    static func run(_ browser: String, _ arguments: [String], profile: String) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: browser)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                             "--user-data-dir=\(profile)", "--virtual-time-budget=2000"] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = profile
        process.environment = environment
        // Standard error goes to a file, so a chatty browser cannot fill a pipe and stall.
        try FileManager.default.createDirectory(atPath: profile, withIntermediateDirectories: true)
        let errPath = profile + "/stderr.log"
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let out = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try err.close()
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), stderr)
    }

    /// Counts of `needle` in `haystack`.
    func count(_ needle: String, in haystack: String) -> Int { haystack.components(separatedBy: needle).count - 1 }

    @Test func chromiumRendersThePlotsAndTheVerdict() async throws {
        guard let browser = Self.browser else {
            if Self.required { throw MissingBrowser() }
            print("BrowserTests: skipped — no Chromium at \(Self.candidates.joined(separator: ", ")) and POM_REQUIRE_BROWSER is not set")
            return
        }
        let built = try await SimulatedExperiment.shared.get()
        let store = try await openStore(built.storeURL)
        let report = try await ABReport.build(store: store, experiment: SimulatedExperiment.name)
        try await store.close()
        let out = built.directory + "/browser"
        try ReportFiles.write(report, to: out)
        let page = URL(fileURLWithPath: out + "/report.html").absoluteString
        let dom = try Self.run(browser, ["--dump-dom", page], profile: built.directory + "/chromium-profile")
        try #require(dom.status == 0, "chromium exited with \(dom.status): \(dom.stderr.suffix(2000))")
        let html = dom.stdout
        // The browser parsed the page into a DOM with the plots inside their figures.
        try #require(html.contains("<svg id=\"survival-plot\""), "no survival plot in the rendered DOM: \(html.prefix(500))")
        let survival = String(html[html.range(of: "<svg id=\"survival-plot\"")!.lowerBound...])
        let survivalSVG = String(survival[..<survival.range(of: "</svg>")!.upperBound])
        #expect(count("class=\"curve\"", in: survivalSVG) == report.arms.count)
        #expect(count("class=\"band\"", in: survivalSVG) == report.arms.count)
        for arm in report.arms {
            #expect(survivalSVG.contains("class=\"curve\" data-arm=\"\(arm.name)\""))
        }
        #expect(survivalSVG.contains("<title id=\"survival-plot-title\">"))
        #expect(survivalSVG.contains("<desc id=\"survival-plot-desc\">"))
        try #require(html.contains("<svg id=\"channel-plot\""), "no channel chart in the rendered DOM")
        let channel = String(html[html.range(of: "<svg id=\"channel-plot\"")!.lowerBound...])
        let channelSVG = String(channel[..<channel.range(of: "</svg>")!.upperBound])
        let delivered = report.channels.filter { $0.delivered > 0 && $0.paidWithin24h.rate != nil }.count
        #expect(count("class=\"bar\"", in: channelSVG) == delivered)
        #expect(count("class=\"whisker\"", in: channelSVG) == delivered)
        #expect(html.contains("<svg id=\"cost-plot\""))
        let verdict = report.verdict.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
        #expect(html.contains("<p id=\"verdict-text\">\(verdict)</p>"))
        #expect(html.contains("<th scope=\"col\">"))

        // A phone-sized screenshot, for a person to look at (kept beside the report).
        let shot = out + "/report.png"
        let screenshot = try Self.run(browser, ["--screenshot=\(shot)", "--window-size=412,2400", "--hide-scrollbars", page],
                                      profile: built.directory + "/chromium-profile")
        #expect(screenshot.status == 0)
        let size = (try? FileManager.default.attributesOfItem(atPath: shot)[.size] as? Int) ?? 0
        #expect(size > 10_000)
        if let keep = ProcessInfo.processInfo.environment["POM_KEEP_REPORT"], !keep.isEmpty {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(atPath: out, toPath: keep)
        }
    }
}

