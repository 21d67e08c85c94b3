// Optimizer: logistic regression, contextual bandits, off-policy evaluation, survival
// statistics and model artifacts, built on LinAlg. Its users see LinAlg's matrices.
@_exported import LinAlg
