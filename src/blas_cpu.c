/* blas_cpu.c: OpenBLAS kernels for CPUs its own detection does not know (see blas_cpu.h).
 *
 * OpenBLAS built for many CPUs (Debian's is) picks its kernels once, while the library loads,
 * from the CPU's model number. A model newer than the library (Debian 12 ships 0.3.21) gets the
 * SSE3 "Prescott" kernels, several times slower on lpg's matrix sizes than the AVX2 or AVX-512
 * ones the CPU runs. The library honours OPENBLAS_CORETYPE, read only at load time, hence the
 * re-execution. A value the user set is left alone (OPENBLAS_CORETYPE=Prescott keeps the old
 * kernels). */
#include "blas_cpu.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <cblas.h>

/* The OpenBLAS core name whose kernels this CPU runs best, or NULL when there is nothing better
 * than what OpenBLAS detects by itself. */
static const char *better_core(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return "Haswell";
#endif
    return NULL;
}

void blas_cpu_fix(char **argv)
{
    const char *detected = openblas_get_corename();
    if (getenv("OPENBLAS_CORETYPE") || !detected || strcasecmp(detected, "prescott") != 0)
        return;
    const char *core = better_core();
    if (!core || setenv("OPENBLAS_CORETYPE", core, 0) != 0)
        return;
    execv("/proc/self/exe", argv);
    unsetenv("OPENBLAS_CORETYPE"); /* the re-execution failed: carry on with the old kernels */
}
