import CBLAS
import Foundation

/// What the CPU offers, read from the operating system (`/proc/cpuinfo` on Linux, whose flags
/// list only the extensions the kernel has enabled).
public struct CPUFeatures: Sendable, Codable, Equatable {
    /// `GenuineIntel`, `AuthenticAMD`, ... (empty when unknown).
    public var vendor: String
    /// The processor's marketing name.
    public var modelName: String
    /// The instruction-set flags as the OS reports them (lower case).
    public var flags: Set<String>

    public init(vendor: String, modelName: String, flags: Set<String>) {
        self.vendor = vendor
        self.modelName = modelName
        self.flags = flags
    }

    /// The features of the CPU this process runs on.
    public static let current: CPUFeatures = {
        guard let text = readProcFile("/proc/cpuinfo") else {
            return CPUFeatures(vendor: "", modelName: "", flags: [])
        }
        var vendor = "", model = "", flags = Set<String>()
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "vendor_id" where vendor.isEmpty: vendor = parts[1]
            case "model name" where model.isEmpty: model = parts[1]
            case "flags" where flags.isEmpty:
                flags = Set(parts[1].split(separator: " ").map(String.init))
                if flags.contains("pni") { flags.insert("sse3") }  // Linux calls SSE3 "pni"
            default: break
            }
            if !vendor.isEmpty && !model.isEmpty && !flags.isEmpty { break }
        }
        return CPUFeatures(vendor: vendor, modelName: model, flags: flags)
    }()

    /// The SIMD extensions that matter for dense linear algebra, widest last.
    public var vectorExtensions: [String] {
        ["sse2", "sse3", "ssse3", "sse4_1", "sse4_2", "avx", "fma", "avx2",
         "avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl", "avx512_bf16", "avx512_fp16", "amx_tile"]
            .filter(flags.contains)
    }
}

/// Reads a `/proc` file to its end (their reported size is 0, so size-based reads truncate them).
func readProcFile(_ path: String) -> String? {
    guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
    defer { try? handle.close() }
    guard let data = try? handle.readToEnd() else { return nil }
    return String(decoding: data, as: UTF8.self)
}

/// OpenBLAS's x86-64 kernel families, ranked by the widest instruction set they use.
public enum OpenBLASCore {
    /// The rank of a core name as `openblas_get_corename()` reports it: 1 SSE2/SSE3, 2 SSE4.2,
    /// 3 AVX, 4 AVX2+FMA, 5 AVX-512. Unknown names rank 0 (never overridden).
    public static func rank(_ name: String) -> Int {
        switch name.lowercased() {
        case "skylakex", "cooperlake", "sapphirerapids": return 5
        case "haswell", "zen": return 4
        case "sandybridge", "bulldozer", "piledriver", "steamroller", "excavator": return 3
        case "nehalem": return 2
        case "prescott", "core2", "penryn", "dunnington", "atom", "nano", "opteron", "opteron(sse3)",
             "barcelona", "bobcat", "katmai", "coppermine", "northwood", "banias", "athlon": return 1
        default: return 0
        }
    }

    /// The fastest core of Debian's OpenBLAS 0.3.21 (DYNAMIC_ARCH) that `features` can run,
    /// or `nil` when nothing better than its baseline applies.
    public static func recommended(for features: CPUFeatures) -> String? {
        let f = features.flags
        let avx512 = ["avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl"].allSatisfy(f.contains)
        if avx512 { return f.contains("avx512_bf16") ? "Cooperlake" : "SkylakeX" }
        if f.contains("avx2") && f.contains("fma") { return features.vendor == "AuthenticAMD" ? "Zen" : "Haswell" }
        if f.contains("avx") { return "Sandybridge" }
        if f.contains("sse4_2") { return "Nehalem" }
        return nil
    }
}

/// The BLAS/LAPACK runtime: which OpenBLAS kernel runs, how many threads, and the start-up
/// step that makes the fast kernel the default.
///
/// Debian's OpenBLAS 0.3.21 does not recognise several newer CPUs and silently falls back to
/// its slowest x86-64 kernel (`Prescott`). OpenBLAS picks its kernel when the library is
/// loaded, from `OPENBLAS_CORETYPE`, so the choice must be made before the process starts:
/// `selectFastKernel(arguments:)` compares OpenBLAS's pick with the best kernel the CPU can
/// run (from its instruction-set flags) and, if OpenBLAS picked worse, re-executes the
/// program once with `OPENBLAS_CORETYPE` set. A user's own `OPENBLAS_CORETYPE` always wins;
/// `POM_BLAS_AUTOSELECT=0` turns the step off.
///
/// Threads: OpenBLAS runs single-threaded and pom splits large operations across
/// `threads` workers itself (`POM_THREADS`, default: the number of cores), so the two
/// never oversubscribe the cores.
public enum BLASRuntime {
    /// How the kernel in use was chosen.
    public enum KernelChoice: String, Sendable, Codable {
        case openBLASDetection = "OpenBLAS's own CPU detection"
        case pomSelection = "selected by pom from the CPU's instruction-set flags (OPENBLAS_CORETYPE set at start-up)"
        case environment = "OPENBLAS_CORETYPE from the environment"
        case autoselectOff = "OpenBLAS's own CPU detection (POM_BLAS_AUTOSELECT=0)"
    }

    static let reexecMarker = "POM_BLAS_KERNEL_SELECTED"

    /// Makes sure OpenBLAS runs the fastest kernel this CPU supports; call first thing in `main`.
    ///
    /// Returns normally when the kernel is already right (or the user chose one); otherwise
    /// replaces the process with a fresh copy of itself, with `OPENBLAS_CORETYPE` set.
    public static func selectFastKernel(arguments: [String] = CommandLine.arguments) {
        let env = ProcessInfo.processInfo.environment
        if env[reexecMarker] != nil || env["OPENBLAS_CORETYPE"] != nil || env["POM_BLAS_AUTOSELECT"] == "0" { return }
        guard let best = OpenBLASCore.recommended(for: .current),
              OpenBLASCore.rank(best) > OpenBLASCore.rank(coreName) else { return }
        setenv("OPENBLAS_CORETYPE", best, 1)
        setenv(reexecMarker, coreName, 1)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        execv("/proc/self/exe", &argv)
        // exec failed (no /proc?): carry on with the slower kernel, and say so.
        unsetenv("OPENBLAS_CORETYPE")
        unsetenv(reexecMarker)
        FileHandle.standardError.write(Data("pom: could not restart with OpenBLAS kernel \(best); running \(coreName)\n".utf8))
    }

    /// The OpenBLAS kernel in use (`openblas_get_corename()`), e.g. `Haswell`, `SkylakeX`, `Zen`.
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// OpenBLAS's build configuration (`openblas_get_config()`).
    public static var configuration: String {
        String(cString: openblas_get_config()).trimmingCharacters(in: .whitespaces)
    }

    /// How the kernel in use was chosen.
    public static var kernelChoice: KernelChoice {
        let env = ProcessInfo.processInfo.environment
        if env[reexecMarker] != nil { return .pomSelection }
        if env["OPENBLAS_CORETYPE"] != nil { return .environment }
        if env["POM_BLAS_AUTOSELECT"] == "0" { return .autoselectOff }
        return .openBLASDetection
    }

    /// The kernel OpenBLAS had picked by itself before pom stepped in (nil when pom did not).
    public static var detectedCoreBeforeSelection: String? {
        ProcessInfo.processInfo.environment[reexecMarker]
    }

    /// Worker threads pom uses for its own parallel kernels (`POM_THREADS`, default: active cores).
    public static let threads: Int = {
        if let text = ProcessInfo.processInfo.environment["POM_THREADS"], let n = Int(text), n > 0 { return n }
        return Swift.max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Threads OpenBLAS itself uses (1: pom parallelises above BLAS).
    public static var openBLASThreads: Int {
        ensureConfigured()
        return Int(openblas_get_num_threads())
    }

    private static let configured: Bool = {
        openblas_set_num_threads(1)
        return true
    }()

    /// Applies the thread policy once, before the first BLAS call.
    @inline(__always)
    static func ensureConfigured() { _ = configured }

    /// The shared libraries providing BLAS and LAPACK, as mapped into this process.
    public static var libraries: [String] {
        guard let maps = readProcFile("/proc/self/maps") else { return [] }
        var seen = [String]()
        for line in maps.split(separator: "\n") {
            guard let path = line.split(separator: " ", omittingEmptySubsequences: true).last.map(String.init),
                  path.hasPrefix("/"), !seen.contains(path) else { continue }
            let name = (path as NSString).lastPathComponent
            if name.contains("blas") || name.contains("lapack") || name.contains("gfortran") { seen.append(path) }
        }
        return seen
    }

    /// A summary for `doctor` commands and benchmark headers.
    public struct Report: Sendable, Codable {
        public var coreName: String
        public var kernelChoice: String
        public var detectedCoreBeforeSelection: String?
        public var recommendedCore: String?
        public var openBLASConfiguration: String
        public var openBLASThreads: Int
        public var pomThreads: Int
        public var libraries: [String]
        public var cpuVendor: String
        public var cpuModel: String
        public var vectorExtensions: [String]
    }

    /// The current state of the BLAS runtime.
    public static var report: Report {
        let cpu = CPUFeatures.current
        return Report(coreName: coreName, kernelChoice: kernelChoice.rawValue,
                      detectedCoreBeforeSelection: detectedCoreBeforeSelection,
                      recommendedCore: OpenBLASCore.recommended(for: cpu),
                      openBLASConfiguration: configuration, openBLASThreads: openBLASThreads,
                      pomThreads: threads, libraries: libraries, cpuVendor: cpu.vendor, cpuModel: cpu.modelName,
                      vectorExtensions: cpu.vectorExtensions)
    }

    /// One line for logs and benchmark output: `OpenBLAS Zen (OpenBLAS's own CPU detection), 1 BLAS thread, 2 pom threads`.
    public static var summary: String {
        "OpenBLAS \(coreName) (\(kernelChoice.rawValue)), \(openBLASThreads) BLAS thread(s), \(threads) pom thread(s)"
    }
}
