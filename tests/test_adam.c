/* test_adam.c: Adam against a two-step example worked by hand, the global-norm clip, and a
 * save/load round trip that continues identically. */
#include <stdint.h>
#include <string.h>

#include "adam.h"
#include "checkpoint.h"
#include "quiet_stderr.h"
#include "test.h"

TEST(adam_two_steps_match_hand_computation)
{
    Adam adam;
    REQUIRE(adam_init(&adam, 2, adam_defaults(0.1)) == 0);
    real params[2] = {0.5, -0.25};
    real g1[2] = {1.0, -2.0}, g2[2] = {0.5, 0.5};

    /* Step 1: m = 0.1 g, v = 0.001 g^2, so m_hat = g, v_hat = g^2 and each parameter moves by
     * lr * g / (|g| + eps) = 0.1 * sign(g) (less 1e-9 relative, from eps). */
    CHECK_CLOSE(adam_step(&adam, params, g1), sqrt(5.0), TOL_ROUND);
    CHECK_INT(adam.step, 1);
    CHECK_CLOSE(adam.m[0], 0.1, TOL_ROUND);
    CHECK_CLOSE(adam.m[1], -0.2, TOL_ROUND);
    CHECK_CLOSE(adam.v[0], 0.001, TOL_ROUND);
    CHECK_CLOSE(adam.v[1], 0.004, TOL_ROUND);
    CHECK_CLOSE(params[0], 0.5 - 0.1 * 1.0 / (1.0 + 1e-8), TOL_ROUND);
    CHECK_CLOSE(params[1], -0.25 + 0.1 * 2.0 / (2.0 + 1e-8), TOL_ROUND);

    /* Step 2: m = 0.9 m + 0.1 g2 = (0.14, -0.13); v = 0.999 v + 0.001 g2^2 = (0.001249, 0.004246);
     * m_hat = m / 0.19 = (0.736842, -0.684211); v_hat = v / 0.001999 = (0.624812, 2.124062);
     * step = 0.1 m_hat / (sqrt(v_hat) + eps) = (0.0932178, -0.0469469). */
    adam_step(&adam, params, g2);
    CHECK_INT(adam.step, 2);
    CHECK_CLOSE(adam.m[0], 0.14, TOL_ROUND);
    CHECK_CLOSE(adam.m[1], -0.13, TOL_ROUND);
    CHECK_CLOSE(adam.v[0], 0.001249, TOL_ROUND);
    CHECK_CLOSE(adam.v[1], 0.004246, TOL_ROUND);
    CHECK_CLOSE(params[0], 0.306782038298161, TOL_ROUND);
    CHECK_CLOSE(params[1], -0.103053183701335, TOL_ROUND);
    adam_free(&adam);
}

TEST(adam_clip_scales_gradient_to_the_clip_norm)
{
    AdamHyper hyper = adam_defaults(0.1);
    hyper.clip = 1.0;
    Adam adam;
    REQUIRE(adam_init(&adam, 2, hyper) == 0);
    real params[2] = {0, 0};
    real grad[2] = {3.0, 4.0}; /* norm 5 > clip 1: used as (0.6, 0.8) */
    CHECK_CLOSE(adam_step(&adam, params, grad), 5.0, TOL_ROUND);
    CHECK_NEAR(grad[0], 3.0, 0); /* the caller's gradient is left alone */
    CHECK_CLOSE(adam.m[0], 0.1 * 0.6, TOL_ROUND);
    CHECK_CLOSE(adam.m[1], 0.1 * 0.8, TOL_ROUND);
    CHECK_CLOSE(adam.v[0], 0.001 * 0.36, TOL_ROUND);
    CHECK_CLOSE(adam.v[1], 0.001 * 0.64, TOL_ROUND);
    CHECK_CLOSE(params[0], -0.1 * 0.6 / (0.6 + 1e-8), TOL_ROUND);
    adam_free(&adam);

    hyper.clip = 10.0; /* norm 5 <= clip: unchanged */
    REQUIRE(adam_init(&adam, 2, hyper) == 0);
    adam_step(&adam, params, grad);
    CHECK_CLOSE(adam.m[0], 0.3, TOL_ROUND);
    CHECK_CLOSE(adam.m[1], 0.4, TOL_ROUND);
    adam_free(&adam);
}

TEST(adam_save_load_continues_identically)
{
    const size_t n = 50;
    Adam a, b;
    REQUIRE(adam_init(&a, n, adam_defaults(0.01)) == 0);
    REQUIRE(adam_init(&b, n, adam_defaults(0.01)) == 0);
    real pa[50], pb[50], grad[50];
    for (size_t i = 0; i < n; i++) {
        pa[i] = (real)(0.01 * (double)i);
        grad[i] = (real)(0.3 - 0.017 * (double)i);
    }
    for (int k = 0; k < 3; k++)
        adam_step(&a, pa, grad);

    const char *path = "build/test_adam.ckpt";
    CheckpointWriter w;
    checkpoint_writer_init(&w);
    CHECK_INT(adam_save(&a, &w, "adam"), 0);
    CHECK_INT(checkpoint_write(&w, path), 0);
    checkpoint_writer_free(&w);
    Checkpoint ck;
    REQUIRE(checkpoint_open(&ck, path) == 0);
    CHECK(checkpoint_find(&ck, "adam_m") && checkpoint_find(&ck, "adam_v"));
    CHECK_INT(adam_load(&b, &ck, "adam"), 0);
    checkpoint_close(&ck);
    CHECK_INT(b.step, 3);

    memcpy(pb, pa, sizeof pa);
    adam_step(&a, pa, grad);
    adam_step(&b, pb, grad);
    CHECK(memcmp(pa, pb, sizeof pa) == 0);
    CHECK(memcmp(a.m, b.m, n * sizeof(real)) == 0 && memcmp(a.v, b.v, n * sizeof(real)) == 0);

    Adam small;
    REQUIRE(adam_init(&small, n - 1, adam_defaults(0.01)) == 0);
    REQUIRE(checkpoint_open(&ck, path) == 0);
    mute_stderr();
    int rc = adam_load(&small, &ck, "adam"); /* another parameter count */
    unmute_stderr();
    CHECK_INT(rc, -1);
    CHECK(strstr(checkpoint_last_error(), "has 50 elements, expected 49") != NULL);
    checkpoint_close(&ck);
    adam_free(&small);
    adam_free(&a);
    adam_free(&b);
    remove(path);
}
