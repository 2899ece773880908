/* vecmath.c: elementwise exp and tanh over arrays, and the choice of the kernels' version (see
 * vecmath.h). */
#include "vecmath.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

VecLevel vec_level = VEC_DEFAULT;

static const struct {
    const char *name;
    VecLevel level;
} vec_levels[] = {
    {"avx512f", VEC_AVX512F},
    {"avx2", VEC_AVX2},
    {"default", VEC_DEFAULT},
};
#define NUM_VEC_LEVELS (int)(sizeof vec_levels / sizeof vec_levels[0])

const char *vec_level_name(VecLevel level)
{
    for (int i = 0; i < NUM_VEC_LEVELS; i++)
        if (vec_levels[i].level == level)
            return vec_levels[i].name;
    return "unknown";
}

/* Whether this CPU runs the version of level (as GCC's target_clones would test it). */
static int cpu_runs(VecLevel level)
{
#if VEC_MULTIVERSION
    __builtin_cpu_init();
    if (level == VEC_AVX512F)
        return __builtin_cpu_supports("avx512f");
    if (level == VEC_AVX2)
        return __builtin_cpu_supports("avx2");
#endif
    return level == VEC_DEFAULT || !VEC_MULTIVERSION;
}

/* The level LPG_VEC names, or -1 when it is unset or names none this CPU runs. */
static int requested_level(void)
{
    const char *name = getenv("LPG_VEC");
    if (!name)
        return -1;
    for (int i = 0; i < NUM_VEC_LEVELS; i++)
        if (strcmp(name, vec_levels[i].name) == 0)
            return cpu_runs(vec_levels[i].level) ? (int)vec_levels[i].level : -1;
    return -1;
}

/* Before main: LPG_VEC's level, or the widest this CPU runs. */
__attribute__((constructor)) static void vec_level_init(void)
{
    int requested = requested_level();
    if (requested >= 0) {
        vec_level = (VecLevel)requested;
        return;
    }
    for (int i = 0; i < NUM_VEC_LEVELS; i++)
        if (cpu_runs(vec_levels[i].level)) {
            vec_level = vec_levels[i].level;
            return;
        }
}

int vec_level_check(void)
{
    const char *name = getenv("LPG_VEC");
    if (!name || requested_level() >= 0)
        return 0;
    for (int i = 0; i < NUM_VEC_LEVELS; i++)
        if (strcmp(name, vec_levels[i].name) == 0)
            return lpg_error("LPG_VEC=%s: this CPU does not run the %s kernels", name, name);
    return lpg_error("LPG_VEC=%s: no such kernel version (avx512f, avx2 or default)", name);
}

VEC_KERNEL void vec_exp_body(real *out, const real *x, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        out[i] = real_exp(x[i]);
}

VEC_KERNEL void vec_tanh_body(real *out, const real *x, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        out[i] = real_tanh(x[i]);
}

VEC_VERSIONS_VOID(vec_exp, (real *out, const real *x, size_t n), (out, x, n))
VEC_VERSIONS_VOID(vec_tanh, (real *out, const real *x, size_t n), (out, x, n))

void vec_exp(real *out, const real *x, size_t n)
{
    VEC_CALL(vec_exp, (out, x, n));
}

void vec_tanh(real *out, const real *x, size_t n)
{
    VEC_CALL(vec_tanh, (out, x, n));
}
