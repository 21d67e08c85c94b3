import Foundation

/// Runs pom's built executables as a user would, in a child process.
enum Binaries {
    /// The directory holding the built products: `POM_BIN` when set (`scripts/scale-out` points it at
    /// the release build), else the test bundle's own directory, beside the debug executables.
    static let productsDirectory: URL = {
        if let bin = ProcessInfo.processInfo.environment["POM_BIN"], !bin.isEmpty {
            return URL(fileURLWithPath: bin, isDirectory: true)
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }()

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `name` (e.g. `pom-train`) with `arguments`; `environment` replaces the inherited one
    /// when given. Waits for it to exit.
    static func run(_ name: String, _ arguments: [String], environment: [String: String]? = nil) throws -> Output {
        let process = Process()
        process.executableURL = productsDirectory.appendingPathComponent(name)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// The current environment without the variables that steer BLAS kernel selection.
    static var cleanEnvironment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        for key in ["OPENBLAS_CORETYPE", "POM_BLAS_KERNEL_SELECTED", "POM_BLAS_AUTOSELECT"] { env[key] = nil }
        return env
    }
}
