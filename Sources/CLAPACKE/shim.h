// LAPACKE's C interface. Debian builds OpenBLAS without LAPACKE, so it is linked separately;
// its LAPACK calls resolve to OpenBLAS's LAPACK through Debian's alternatives.
#include <lapacke.h>
