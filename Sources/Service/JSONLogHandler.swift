import FeatureStore
import Foundation
import Logging

/// A swift-log handler that writes one JSON object a line to standard error:
/// `{"ts":"2026-03-02T09:00:00.123Z","level":"info","logger":"pom.service","msg":"reaction","sent":"1",...}`
/// (metadata values as strings, keys sorted), for log collectors that parse JSON.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    let label: String
    static let lock = NSLock()

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String,
                    file: String, function: String, line: UInt) {
        var fields: [String: String] = [:]
        for (k, v) in metadata.merging(explicit ?? [:], uniquingKeysWith: { $1 }) { fields[k] = "\(v)" }
        fields["ts"] = Self.timestamp(Date())
        fields["level"] = level.rawValue
        fields["logger"] = label
        fields["msg"] = message.description
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // A dictionary of strings always encodes.
        var data = try! encoder.encode(fields)
        data.append(0x0A)
        Self.lock.lock()
        FileHandle.standardError.write(data)
        Self.lock.unlock()
    }

    static func timestamp(_ d: Date) -> String {
        CivilTime.formatInstant(micros: Int64((d.timeIntervalSince1970 * 1000).rounded(.down)) * 1000)
    }
}
