/* cpu_pin.h: LPG_CPU, one environment variable that pins every choice of kernels that depends on
 * the CPU, so that a run repeats bit for bit on another x86-64 machine.
 *
 * The same binary picks, on each machine: OpenBLAS's kernels (OPENBLAS_CORETYPE, read when the
 * library loads), glibc's variants of libm and libmvec (its ifuncs, steered by the tunable
 * glibc.cpu.hwcaps in GLIBC_TUNABLES, read when the program starts), and lpg's own vector
 * kernels (LPG_VEC, vecmath.h). LPG_CPU=avx2 sets all three to what an AVX2 machine picks
 * (Haswell, no AVX-512 in glibc, avx2) and LPG_CPU=avx512 to what an AVX-512 one does (SkylakeX,
 * avx512f), then re-executes the program so that the libraries load with them. */
#ifndef LPG_CPU_PIN_H
#define LPG_CPU_PIN_H

/* Call first thing in main, before blas_cpu_fix. Without LPG_CPU only checks LPG_VEC. With it,
 * sets the variables it implies and re-executes the program when any was missing; a variable
 * already set to another value, a CPU without the instructions, or a library that ignored its
 * variable is an error. Returns 0 (the kernels are pinned, or there was nothing to do) or -1
 * after reporting. */
int cpu_pin_apply(char **argv);

/* LPG_CPU's value, or NULL when unset. */
const char *cpu_pin_name(void);

#endif
