/* test_inner_update.c: the inner Adam step of MLP agents (inner_update.h) against values worked
 * out by hand, and its adjoint against central finite differences of the step in double. */
#include <string.h>

#include "inner_update.h"
#include "quiet_stderr.h"
#include "test.h"

TEST(inner_adam_step_matches_hand_computation)
{
    /* Step 3 of a life (bias corrections 1 - 0.9^3 = 0.271, 1 - 0.999^3 = 0.002997), α = 0.1:
     * m' = 0.9 m + 0.1 g = (0.14, -0.2, 0.18), v' = 0.999 v + 0.001 g² = (0.01024, 0.004, 0.03996),
     * θ' = θ - α (m'/0.271) / (√(v'/0.002997) + 1e-5). The third g is 0: the moments decay, and
     * θ still moves by the remaining momentum. */
    real g[3] = {0.5, -2, 0}, m[3] = {0.1, 0, 0.2}, v[3] = {0.01, 0, 0.04}, theta[3] = {1, 2, 3};
    InnerAdam adam = {m, v, m, v, 3};
    inner_adam_step(&adam, 3, 0.1, g, theta, theta);
    const double m_want[3] = {0.14, -0.2, 0.18}, v_want[3] = {0.01024, 0.004, 0.03996};
    const double theta_want[3] = {0.972052056223368, 2.0638808069924237, 2.9818099987454425};
    for (int i = 0; i < 3; i++) {
        CHECK_CLOSE(m[i], m_want[i], TOL_ROUND);
        CHECK_CLOSE(v[i], v_want[i], TOL_ROUND);
        CHECK_CLOSE(theta[i], theta_want[i], TOL_ROUND);
    }
    /* The first step of a fresh agent moves each parameter by α g/(|g| + ε): almost α sign(g),
     * and not at all where g is 0. */
    real zero_m[3] = {0}, zero_v[3] = {0}, m1[3], v1[3], from[3] = {1, 2, 3}, to[3];
    InnerAdam first = {zero_m, zero_v, m1, v1, 1};
    inner_adam_step(&first, 3, 0.1, g, from, to);
    CHECK_CLOSE(to[0], 1 - 0.1 * 0.5 / (0.5 + 1e-5), TOL_ROUND);
    CHECK_CLOSE(to[1], 2 + 0.1 * 2 / (2 + 1e-5), TOL_ROUND);
    CHECK_NEAR(to[2], 3, 0);
}

/* J = ⟨a, θ'⟩ + ⟨b, m'⟩ + ⟨c, v'⟩ after one step from (θ, m, v) with gradient g. */
static double step_objective(const real *theta, const real *m, const real *v, const real *g,
                             int64_t step, const real *a, const real *b, const real *c)
{
    real m_next[4], v_next[4], theta_next[4];
    InnerAdam adam = {m, v, m_next, v_next, step};
    inner_adam_step(&adam, 4, 0.05, g, theta, theta_next);
    double J = 0;
    for (int i = 0; i < 4; i++)
        J += (double)a[i] * theta_next[i] + (double)b[i] * m_next[i] + (double)c[i] * v_next[i];
    return J;
}

/* Central difference of step_objective in x[i] (x one of its arrays), with a step relative to
 * x[i] (the moments span 1e-6 to 1e-2). */
static double difference(real *x, int i, const real *theta, const real *m, const real *v,
                         const real *g, int64_t step, const real *a, const real *b, const real *c)
{
    real saved = x[i];
    double h = 1e-6 * fabs((double)saved) + 1e-10;
    x[i] = saved + (real)h;
    double up = step_objective(theta, m, v, g, step, a, b, c);
    x[i] = saved - (real)h;
    double down = step_objective(theta, m, v, g, step, a, b, c);
    x[i] = saved;
    return (up - down) / (2 * h);
}

TEST(inner_adam_backward_matches_finite_differences)
{
    DOUBLE_ONLY("central finite differences to 1e-6");
    real theta[4] = {0.3, -1, 2, 0.5}, m[4] = {0.01, -0.02, 0, 0.003};
    real v[4] = {1e-4, 4e-4, 2e-5, 1e-6}, g[4] = {0.02, 0.01, -0.005, 0.001};
    real a[4] = {1, -0.5, 2, 0.7}, b[4] = {0.3, 0.2, -1, 0.4}, c[4] = {-2, 5, 1, 3};
    for (int64_t step = 1; step <= 20; step += 19) {
        real m_next[4], v_next[4], theta_next[4], lambda_m[4], lambda_v[4], lambda_g[4];
        InnerAdam adam = {m, v, m_next, v_next, step};
        inner_adam_step(&adam, 4, 0.05, g, theta, theta_next);
        memcpy(lambda_m, b, sizeof b);
        memcpy(lambda_v, c, sizeof c);
        inner_adam_backward(&adam, 4, 0.05, g, a, lambda_m, lambda_v, lambda_g);
        double worst = 0;
        for (int i = 0; i < 4; i++) {
            worst = fmax(worst, rel_error(lambda_g[i],
                                          difference(g, i, theta, m, v, g, step, a, b, c), 1e-6));
            worst = fmax(worst, rel_error(lambda_m[i],
                                          difference(m, i, theta, m, v, g, step, a, b, c), 1e-6));
            worst = fmax(worst, rel_error(lambda_v[i],
                                          difference(v, i, theta, m, v, g, step, a, b, c), 1e-6));
        }
        fprintf(stderr, "    step %d: worst rel error %.2e\n", (int)step, worst);
        CHECK(worst < 1e-6);
    }
}

TEST(inner_optimizer_parses_and_names_the_key)
{
    InnerOptimizer o = INNER_SGD;
    CHECK(inner_optimizer_parse("adam", &o, "x.json") == 0 && o == INNER_ADAM);
    CHECK(inner_optimizer_parse("sgd", &o, "x.json") == 0 && o == INNER_SGD);
    mute_stderr();
    CHECK(inner_optimizer_parse("rmsprop", &o, "x.json") == -1);
    unmute_stderr();
}
