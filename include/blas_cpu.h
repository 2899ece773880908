/* blas_cpu.h: giving OpenBLAS the kernels of the CPU it runs on when its own detection fails. */
#ifndef LPG_BLAS_CPU_H
#define LPG_BLAS_CPU_H

/* Call first thing in main. When OpenBLAS fell back to its SSE3 kernels ("Prescott") on a CPU
 * with AVX2 or AVX-512, and OPENBLAS_CORETYPE is unset, sets it (Haswell or SkylakeX) and
 * re-executes the program with the same arguments, so that the library picks those kernels when
 * it loads. Returns (doing nothing) in every other case, or when the re-execution fails. */
void blas_cpu_fix(char **argv);

#endif
