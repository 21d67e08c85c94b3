import Foundation
import LinAlg

// pom-bench [--json] [--quick] [GROUP ...]: runs the named benchmark groups (all by default) and prints
// one line per benchmark, or JSON lines with --json; --quick runs them on about a tenth of the data.
// Each group lives in its own file.
let groups: [(name: String, run: () throws -> [BenchResult])] = [
    ("blas", blasBenchmarks),
    ("survival", survivalBenchmarks),
    ("ope", opeBenchmarks),
    ("store", storeBenchmarks),
    ("simulator", simulatorBenchmarks),
    ("bandits", banditBenchmarks),
    ("logistic", logisticBenchmarks),
    ("csv", csvBenchmarks),
    ("policy", policyBenchmarks),
    ("orchestrate", orchestrateBenchmarks),
    ("templates", templateBenchmarks),
]

BLASRuntime.selectFastKernel()
var arguments = Array(CommandLine.arguments.dropFirst())
let json = arguments.contains("--json")
quickMode = arguments.contains("--quick")
arguments.removeAll { $0 == "--json" || $0 == "--quick" }
let unknown = arguments.filter { name in !groups.contains { $0.name == name } }
if !unknown.isEmpty {
    FileHandle.standardError.write(Data("unknown group(s) \(unknown); groups: \(groups.map(\.name))\n".utf8))
    exit(2)
}
let header = "machine: \(CPUFeatures.current.modelName), \(ProcessInfo.processInfo.activeProcessorCount) cores; \(BLASRuntime.summary)"
    + (quickMode ? "; quick sizes" : "")
if json {
    print(String(decoding: try JSONSerialization.data(withJSONObject: ["machine": header]), as: UTF8.self))
} else {
    print(header)
}
for group in groups where arguments.isEmpty || arguments.contains(group.name) {
    for result in try group.run() {
        if json {
            print(String(decoding: try JSONEncoder().encode(result), as: UTF8.self))
        } else {
            print(result.line)
        }
        fflush(nil)
    }
}
