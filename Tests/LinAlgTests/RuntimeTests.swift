import Testing
@testable import LinAlg

@Suite struct RuntimeTests {
    func cpu(_ vendor: String, _ flags: String) -> CPUFeatures {
        CPUFeatures(vendor: vendor, modelName: "test", flags: Set(flags.split(separator: " ").map(String.init)))
    }

    @Test func recommendsTheWidestKernelTheCPUCanRun() {
        let sapphireRapids = cpu("GenuineIntel", "sse4_2 avx avx2 fma avx512f avx512dq avx512cd avx512bw avx512vl avx512_bf16 amx_tile")
        let icelake = cpu("GenuineIntel", "sse4_2 avx avx2 fma avx512f avx512dq avx512cd avx512bw avx512vl")
        let zen3 = cpu("AuthenticAMD", "sse4_2 avx avx2 fma")
        let broadwell = cpu("GenuineIntel", "sse4_2 avx avx2 fma")
        let ivyBridge = cpu("GenuineIntel", "sse4_2 avx")
        let old = cpu("GenuineIntel", "sse2 sse3")
        #expect(OpenBLASCore.recommended(for: sapphireRapids) == "Cooperlake")
        #expect(OpenBLASCore.recommended(for: icelake) == "SkylakeX")
        #expect(OpenBLASCore.recommended(for: zen3) == "Zen")
        #expect(OpenBLASCore.recommended(for: broadwell) == "Haswell")
        #expect(OpenBLASCore.recommended(for: ivyBridge) == "Sandybridge")
        #expect(OpenBLASCore.recommended(for: old) == nil)
        // AVX-512F alone (Knights Landing) is not enough for OpenBLAS's SkylakeX kernels.
        #expect(OpenBLASCore.recommended(for: cpu("GenuineIntel", "avx avx2 fma avx512f avx512cd")) == "Haswell")
    }

    @Test func ranksOrderKernelsByInstructionSet() {
        #expect(OpenBLASCore.rank("Prescott") < OpenBLASCore.rank("Nehalem"))
        #expect(OpenBLASCore.rank("Nehalem") < OpenBLASCore.rank("Sandybridge"))
        #expect(OpenBLASCore.rank("Sandybridge") < OpenBLASCore.rank("Haswell"))
        #expect(OpenBLASCore.rank("Haswell") == OpenBLASCore.rank("Zen"))
        #expect(OpenBLASCore.rank("Zen") < OpenBLASCore.rank("SkylakeX"))
        #expect(OpenBLASCore.rank("SomethingNew") == 0)
    }

    @Test func runtimeReportsItsState() {
        let report = BLASRuntime.report
        #expect(!report.coreName.isEmpty)
        #expect(report.openBLASConfiguration.contains("OpenBLAS"))
        #expect(report.openBLASThreads == 1)   // pom parallelises above BLAS
        #expect(report.pomThreads >= 1)
        #expect(report.libraries.contains { $0.contains("openblas") })
        #expect(report.libraries.contains { $0.contains("lapacke") })
    }
}
