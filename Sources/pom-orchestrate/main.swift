import LinAlg
import POMCommandLine

BLASRuntime.selectFastKernel()
PomOrchestrate.main()
