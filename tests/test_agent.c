/* test_agent.c: the agent network and the LPG loss against central finite differences (double
 * build): softmax helpers, the per-sample loss (gradient, Hessian-vector product, mixed
 * derivatives), and for tabular, MLP and conv agents the backward pass, forward tangent, backward
 * tangent and the full Hessian-vector product of Eq. 2. Each check prints the worst relative
 * error per parameter (or output) group. MLP and conv checks verify that no finite-difference
 * step crossed a ReLU kink (the on/off pattern of every hidden unit is the same at θ ± εv). */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "agent_loss.h"
#include "quiet_stderr.h"
#include "rng.h"
#include "softmax.h"
#include "test.h"

#define FD_EPS 1e-5
#define REL_TOL 1e-6
#define REL_FLOOR 1e-4 /* entries smaller than this are compared absolutely (at REL_TOL * floor) */

static void fill_normal(real *x, size_t n, Rng *rng, double std)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (real)(std * rng_normal(rng));
}

/* a + s * b, elementwise, into out. */
static void axpy_into(real *out, const real *a, double s, const real *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = a[i] + (real)s * b[i];
}

/* ---- error report per group ----------------------------------------------------------- */

#define MAX_GROUPS (2 * AGENT_MAX_LAYERS)

/* Parameter group of θ index i: tabular by output column kind, MLP by layer weight / bias. */
static int param_group(const Agent *agent, size_t i, char *name, size_t name_size)
{
    if (agent->spec.kind == AGENT_TABULAR) {
        int col = (int)(i % (size_t)agent->num_outputs);
        int g = col < agent->y_offset ? 0 : col < agent->value_offset ? 1 : 2;
        static const char *names[] = {"action logits", "y logits", "value"};
        snprintf(name, name_size, "%s", names[g]);
        return g;
    }
    for (int l = agent->num_layers - 1; l >= 0; l--) {
        if (i >= agent->bias[l]) {
            snprintf(name, name_size, "b%d", l);
            return 2 * l + 1;
        }
        if (i >= agent->weight[l]) {
            snprintf(name, name_size, "W%d", l);
            return 2 * l;
        }
    }
    return 0;
}

/* Output group of output index i (column kind over all rows). */
static int output_group(const Agent *agent, size_t i, char *name, size_t name_size)
{
    int col = (int)(i % (size_t)agent->num_outputs);
    int g = col < agent->y_offset ? 0 : col < agent->value_offset ? 1 : 2;
    static const char *names[] = {"out action logits", "out y logits", "out value"};
    snprintf(name, name_size, "%s", names[g]);
    return g;
}

/* Group of entry i of [∂/∂π̂ (first y_offset entries) | ∂/∂log ŷ (the rest)]. */
static int rule_output_group(const Agent *layout, size_t i, char *name, size_t name_size)
{
    int g = (int)i < layout->y_offset ? 0 : 1;
    snprintf(name, name_size, "%s", g == 0 ? "d/d pi_hat" : "d/d log y_hat");
    return g;
}

typedef int (*GroupFn)(const Agent *, size_t, char *, size_t);

/* Compares analytic with numeric entry by entry, prints the worst relative error per group and
 * CHECKs each is below REL_TOL. Returns the overall worst. */
static double report_errors(const char *what, const Agent *agent, GroupFn group,
                            const real *analytic, const real *numeric, size_t n)
{
    double worst[MAX_GROUPS] = {0};
    int seen[MAX_GROUPS] = {0};
    char names[MAX_GROUPS][32];
    double overall = 0;
    for (size_t i = 0; i < n; i++) {
        char name[32];
        int g = group(agent, i, name, sizeof name);
        if (!seen[g])
            snprintf(names[g], sizeof names[g], "%s", name);
        seen[g] = 1;
        double e = rel_error(analytic[i], numeric[i], REL_FLOOR);
        if (e > worst[g])
            worst[g] = e;
        if (e > overall)
            overall = e;
    }
    for (int g = 0; g < MAX_GROUPS; g++) {
        if (!seen[g])
            continue;
        fprintf(stderr, "    %-40s %-18s worst rel error %.2e\n", what, names[g], worst[g]);
        CHECK(worst[g] < REL_TOL);
    }
    return overall;
}

/* ---- fixtures ------------------------------------------------------------------------- */

typedef struct {
    Agent agent;
    AgentWork work;
    int batch;
    real *theta, *v;
    int32_t *index;
    real *x;
    AgentObs obs;
    int32_t *action;
    real *pi_hat, *log_y_hat;
    LpgLossInput loss;
    uint8_t *mask; /* reference relu pattern at θ */
    Rng rng;
} Fixture;

static void fixture_init(Fixture *f, const AgentSpec *spec, int batch, uint64_t seed)
{
    memset(f, 0, sizeof *f);
    CHECK(agent_setup(&f->agent, spec) == 0);
    CHECK(agent_work_init(&f->work, &f->agent, batch) == 0);
    rng_seed(&f->rng, seed, 3);
    const Agent *a = &f->agent;
    f->batch = batch;
    f->theta = calloc(a->num_params, sizeof(real));
    f->v = calloc(a->num_params, sizeof(real));
    /* conv: smaller weights keep the logits, and with them the loss's round-off, moderate. */
    double theta_std = spec->kind == AGENT_TABULAR ? 1.0 : spec->kind == AGENT_CONV ? 0.3 : 0.5;
    fill_normal(f->theta, a->num_params, &f->rng, theta_std);
    fill_normal(f->v, a->num_params, &f->rng, 1.0);
    if (spec->kind == AGENT_TABULAR) {
        f->index = calloc((size_t)batch, sizeof(int32_t));
        for (int b = 0; b < batch; b++)
            f->index[b] = (int32_t)rng_below(&f->rng, (uint32_t)spec->num_states);
        f->obs.index = f->index;
    } else {
        f->x = calloc((size_t)batch * spec->obs_dim, sizeof(real));
        fill_normal(f->x, (size_t)batch * spec->obs_dim, &f->rng, 1.0);
        f->obs.x = f->x;
    }
    f->action = calloc((size_t)batch, sizeof(int32_t));
    f->pi_hat = calloc((size_t)batch, sizeof(real));
    f->log_y_hat = calloc((size_t)batch * (a->num_y + 1), sizeof(real));
    for (int b = 0; b < batch; b++) {
        f->action[b] = (int32_t)rng_below(&f->rng, (uint32_t)a->num_actions);
        f->pi_hat[b] = (real)rng_normal(&f->rng);
        if (a->num_y > 0) {
            real *row = f->log_y_hat + (size_t)b * a->num_y;
            fill_normal(row, (size_t)a->num_y, &f->rng, 1.0);
            log_softmax_row(row, a->num_y, row);
        }
    }
    f->loss.action = f->action;
    f->loss.pi_hat = f->pi_hat;
    f->loss.log_y_hat = a->num_y > 0 ? f->log_y_hat : NULL;
    f->loss.alpha_y = 0.7;
    f->loss.scale = 1.0 / batch;
    size_t units = 0;
    for (int l = 0; l + 1 < a->num_layers; l++)
        units += (size_t)batch * a->layer_rows[l] * a->layer_out[l];
    f->mask = calloc(units + 1, 1);
}

static void fixture_free(Fixture *f)
{
    agent_work_free(&f->work);
    free(f->theta), free(f->v), free(f->index), free(f->x), free(f->action);
    free(f->pi_hat), free(f->log_y_hat), free(f->mask);
}

/* Compares (store = 0) or records (store = 1) the relu on/off pattern of the last forward.
 * Returns the number of units whose state differs from the record. On record, also checks that
 * both states occur (so the masks are really exercised). */
static int relu_pattern(Fixture *f, int store)
{
    const Agent *a = &f->agent;
    int differ = 0;
    size_t k = 0, on_count = 0;
    for (int l = 0; l + 1 < a->num_layers; l++) {
        size_t n = (size_t)f->batch * a->layer_rows[l] * a->layer_out[l];
        for (size_t i = 0; i < n; i++, k++) {
            uint8_t on = f->work.act[l][i] > 0;
            on_count += on;
            if (store)
                f->mask[k] = on;
            else
                differ += f->mask[k] != on;
        }
    }
    if (store && k > 0)
        CHECK(on_count > 0 && on_count < k);
    return differ;
}

static AgentSpec tabular_spec(int has_value, int num_y)
{
    AgentSpec s = {0};
    s.kind = AGENT_TABULAR;
    s.num_states = 5;
    s.num_actions = 4;
    s.num_y = num_y;
    s.has_value = has_value;
    return s;
}

static AgentSpec mlp_spec(int num_hidden, int has_value, int num_y)
{
    AgentSpec s = {0};
    s.kind = AGENT_MLP;
    s.obs_dim = 7;
    s.num_hidden = num_hidden;
    s.hidden[0] = 6;
    s.hidden[1] = 5;
    s.num_actions = 3;
    s.num_y = num_y;
    s.has_value = has_value;
    return s;
}

/* A conv agent on 2 planes of 4 x 5 (2 x 3 positions), 3 filters, then num_hidden layers. */
static AgentSpec conv_spec(int num_hidden, int has_value, int num_y)
{
    AgentSpec s = mlp_spec(num_hidden, has_value, num_y);
    s.kind = AGENT_CONV;
    s.conv_filters = 3;
    s.in_planes = 2, s.in_height = 4, s.in_width = 5;
    s.obs_dim = 2 * 4 * 5;
    return s;
}

/* The agent configurations every derivative test runs on. */
#define NUM_CASES 8
static AgentSpec test_case(int c, const char **name)
{
    switch (c) {
    case 0: *name = "tabular, y, value"; return tabular_spec(1, 6);
    case 1: *name = "tabular, no y"; return tabular_spec(0, 0);
    case 2: *name = "mlp {6}, y, value"; return mlp_spec(1, 1, 6);
    case 3: *name = "mlp {6,5}, y"; return mlp_spec(2, 0, 6);
    case 4: *name = "mlp {}, y, value (linear)"; return mlp_spec(0, 1, 6);
    case 5: *name = "mlp {6,5}, no y, value"; return mlp_spec(2, 1, 0);
    case 6: *name = "conv 3 filters {6}, y, value"; return conv_spec(1, 1, 6);
    default: *name = "conv 3 filters {}, y (no hidden)"; return conv_spec(0, 0, 6);
    }
}

/* ---- softmax helpers ------------------------------------------------------------------ */

TEST(agent_softmax_helpers_are_stable_and_consistent)
{
    real x[5] = {0.3, -1.2, 2.0, 0.0, 1000.0};
    real p[5], log_p[5];
    softmax_row(x, 5, p);
    log_softmax_row(x, 5, log_p);
    double sum = 0;
    for (int j = 0; j < 5; j++) {
        sum += p[j];
        CHECK_CLOSE(p[j], exp(log_p[j]), TOL_ROUND);
    }
    CHECK_CLOSE(sum, 1.0, TOL_ROUND);
    CHECK_NEAR(p[4], 1.0, 1e-12);
    CHECK(isfinite(entropy_row(x, 5)));
    real uniform[4] = {2, 2, 2, 2};
    CHECK_CLOSE(entropy_row(uniform, 4), log(4.0), TOL_ROUND);
    real same[3] = {1, 2, 3};
    softmax_row(same, 3, same);
    CHECK_CLOSE(same[0] + same[1] + same[2], 1.0, TOL_ROUND);
}

TEST(agent_softmax_derivatives_match_finite_differences)
{
    DOUBLE_ONLY("central finite differences to 1e-6");
    Rng rng;
    rng_seed(&rng, 11, 0);
    enum { N = 7 };
    real x[N], dx[N], grad[N] = {0}, numeric[N], tangent[N], xp[N], xm[N], pp[N], pm[N];
    fill_normal(x, N, &rng, 1.5);
    fill_normal(dx, N, &rng, 1.0);
    entropy_row_backward(x, N, 1, grad);
    double worst_grad = 0, worst_tangent = 0;
    for (int j = 0; j < N; j++) {
        memcpy(xp, x, sizeof x);
        memcpy(xm, x, sizeof x);
        xp[j] += FD_EPS;
        xm[j] -= FD_EPS;
        numeric[j] = (entropy_row(xp, N) - entropy_row(xm, N)) / (2 * FD_EPS);
        double e = rel_error(grad[j], numeric[j], REL_FLOOR);
        worst_grad = e > worst_grad ? e : worst_grad;
    }
    softmax_row_tangent(x, dx, N, tangent);
    axpy_into(xp, x, FD_EPS, dx, N);
    axpy_into(xm, x, -FD_EPS, dx, N);
    softmax_row(xp, N, pp);
    softmax_row(xm, N, pm);
    for (int j = 0; j < N; j++) {
        double e = rel_error(tangent[j], (pp[j] - pm[j]) / (2 * FD_EPS), REL_FLOOR);
        worst_tangent = e > worst_tangent ? e : worst_tangent;
    }
    fprintf(stderr, "    entropy gradient worst rel error %.2e\n", worst_grad);
    fprintf(stderr, "    softmax tangent  worst rel error %.2e\n", worst_tangent);
    CHECK(worst_grad < REL_TOL);
    CHECK(worst_tangent < REL_TOL);
}

/* ---- the loss of one sample ----------------------------------------------------------- */

enum { SA = 5, SM = 8 }; /* actions, y categories of the per-sample tests */

typedef struct {
    real logits[SA + SM]; /* action logits then y logits, as in an output row */
    real tangent[SA + SM];
    real log_y_hat[SM];
    int action;
    real pi_hat, alpha_y;
} Sample;

static void sample_init(Sample *s, uint64_t seed)
{
    Rng rng;
    rng_seed(&rng, seed, 5);
    fill_normal(s->logits, SA + SM, &rng, 1.5);
    fill_normal(s->tangent, SA + SM, &rng, 1.0);
    fill_normal(s->log_y_hat, SM, &rng, 1.0);
    log_softmax_row(s->log_y_hat, SM, s->log_y_hat);
    s->action = 2;
    s->pi_hat = -0.8;
    s->alpha_y = 0.6;
}

/* The output row of logits (action logits then y logits) with its softmaxes in pi and q. */
static OutputRow row_of(const real *logits, real *pi, real *q)
{
    OutputRow o = {logits, pi, softmax_row_lse(logits, SA, pi), logits + SA, q, 0};
    o.lse_y = softmax_row_lse(logits + SA, SM, q);
    return o;
}

static real sample_loss(const Sample *s, const real *logits, real *grad)
{
    real scratch[SA + SM], pi[SA], q[SM];
    real *g = grad ? grad : scratch;
    OutputRow o = row_of(logits, pi, q);
    return lpg_loss_sample(&o, SA, s->action, s->pi_hat, s->log_y_hat, SM, s->alpha_y, g, g + SA);
}

TEST(agent_loss_sample_value_is_policy_term_plus_kl)
{
    Sample s;
    sample_init(&s, 1);
    real log_pi[SA], log_q[SM], grad[SA + SM];
    log_softmax_row(s.logits, SA, log_pi);
    log_softmax_row(s.logits + SA, SM, log_q);
    double kl = 0;
    for (int j = 0; j < SM; j++)
        kl += exp(log_q[j]) * (log_q[j] - s.log_y_hat[j]);
    CHECK(kl > 0);
    CHECK_CLOSE(sample_loss(&s, s.logits, grad), -s.pi_hat * log_pi[s.action] + s.alpha_y * kl,
                TOL_ROUND);
    /* KL of a distribution with itself is zero, and so is its gradient. */
    memcpy(s.log_y_hat, log_q, sizeof log_q);
    s.pi_hat = 0;
    CHECK_NEAR(sample_loss(&s, s.logits, grad), 0.0, 1e-14);
    for (int j = 0; j < SA + SM; j++)
        CHECK_NEAR(grad[j], 0.0, 1e-14);
}

TEST(agent_loss_sample_gradient_and_hvp_match_finite_differences)
{
    DOUBLE_ONLY("central finite differences to 1e-6");
    Sample s;
    sample_init(&s, 2);
    real grad[SA + SM], numeric[SA + SM], plus[SA + SM], minus[SA + SM];
    sample_loss(&s, s.logits, grad);
    for (int j = 0; j < SA + SM; j++) {
        memcpy(plus, s.logits, sizeof plus);
        memcpy(minus, s.logits, sizeof minus);
        plus[j] += FD_EPS;
        minus[j] -= FD_EPS;
        numeric[j] = (sample_loss(&s, plus, NULL) - sample_loss(&s, minus, NULL)) / (2 * FD_EPS);
    }
    Agent layout = {0}; /* only for the column groups of report_errors */
    layout.num_outputs = SA + SM, layout.y_offset = SA, layout.value_offset = SA + SM;
    report_errors("sample loss gradient", &layout, output_group, grad, numeric, SA + SM);

    real hvp[SA + SM], grad_plus[SA + SM], grad_minus[SA + SM], pi[SA], q[SM];
    OutputRow o = row_of(s.logits, pi, q);
    lpg_loss_sample_hvp(&o, s.tangent, s.tangent + SA, SA, s.pi_hat, s.log_y_hat, SM, s.alpha_y,
                        hvp, hvp + SA);
    axpy_into(plus, s.logits, FD_EPS, s.tangent, SA + SM);
    axpy_into(minus, s.logits, -FD_EPS, s.tangent, SA + SM);
    sample_loss(&s, plus, grad_plus);
    sample_loss(&s, minus, grad_minus);
    for (int j = 0; j < SA + SM; j++)
        numeric[j] = (grad_plus[j] - grad_minus[j]) / (2 * FD_EPS);
    report_errors("sample loss hvp", &layout, output_group, hvp, numeric, SA + SM);
}

/* ⟨∇L_b, δ⟩ for the mixed-derivative check. */
static double sample_directional(const Sample *s)
{
    real grad[SA + SM];
    sample_loss(s, s->logits, grad);
    double dot = 0;
    for (int j = 0; j < SA + SM; j++)
        dot += grad[j] * s->tangent[j];
    return dot;
}

TEST(agent_loss_sample_mixed_derivatives_match_finite_differences)
{
    DOUBLE_ONLY("central finite differences to 1e-6");
    Sample s;
    sample_init(&s, 3);
    const real scale = 0.25;
    real dlog_y_hat[SM] = {0}, pi[SA], q[SM];
    OutputRow o = row_of(s.logits, pi, q);
    real d_pi_hat = lpg_loss_sample_mixed(&o, s.tangent, s.tangent + SA, SA, s.action, SM,
                                          s.alpha_y, scale, dlog_y_hat);
    /* Numeric: perturb π̂, then each log ŷ_j (as independent inputs). */
    real analytic[1 + SM], numeric[1 + SM];
    analytic[0] = d_pi_hat;
    Sample p = s, m = s;
    p.pi_hat += FD_EPS;
    m.pi_hat -= FD_EPS;
    numeric[0] = scale * (sample_directional(&p) - sample_directional(&m)) / (2 * FD_EPS);
    for (int j = 0; j < SM; j++) {
        p = s, m = s;
        p.log_y_hat[j] += FD_EPS;
        m.log_y_hat[j] -= FD_EPS;
        analytic[1 + j] = dlog_y_hat[j];
        numeric[1 + j] = scale * (sample_directional(&p) - sample_directional(&m)) / (2 * FD_EPS);
    }
    Agent layout = {0}; /* groups: entry 0 is ∂/∂π̂, the rest ∂/∂log ŷ */
    layout.y_offset = 1;
    report_errors("sample mixed", &layout, rule_output_group, analytic, numeric, 1 + SM);
    /* The accumulate contract: a second call adds the same again. */
    lpg_loss_sample_mixed(&o, s.tangent, s.tangent + SA, SA, s.action, SM, s.alpha_y, scale,
                          dlog_y_hat);
    for (int j = 0; j < SM; j++)
        CHECK_NEAR(dlog_y_hat[j], 2 * analytic[1 + j], 1e-15);
}

/* ---- agent derivatives ---------------------------------------------------------------- */

/* out(θ) into out, checking the relu pattern against the record at θ; returns differing units. */
static int forward_at(Fixture *f, const real *theta, real *out)
{
    agent_forward(&f->agent, &f->work, theta, f->obs, f->batch, out);
    return relu_pattern(f, 0);
}

TEST(agent_backward_matches_finite_differences)
{
    DOUBLE_ONLY("central finite differences to 1e-6");
    for (int c = 0; c < NUM_CASES; c++) {
        const char *name;
        AgentSpec spec = test_case(c, &name);
        Fixture f;
        fixture_init(&f, &spec, 6, 100 + c);
        const Agent *a = &f.agent;
        size_t n_out = (size_t)f.batch * a->num_outputs, P = a->num_params;
        real *r = calloc(n_out, sizeof(real)), *out = calloc(n_out, sizeof(real));
        real *grad = calloc(P, sizeof(real)), *numeric = calloc(P, sizeof(real));
        real *tp = calloc(P, sizeof(real));
        fill_normal(r, n_out, &f.rng, 1.0);
        /* L(θ) = Σ r ⊙ out(θ), so ∂L/∂out = r. */
        agent_forward(a, &f.work, f.theta, f.obs, f.batch, out);
        relu_pattern(&f, 1);
        agent_backward(a, &f.work, f.theta, f.obs, f.batch, r, grad);
        int kinks = 0;
        for (size_t i = 0; i < P; i++) {
            double l[2];
            for (int side = 0; side < 2; side++) {
                memcpy(tp, f.theta, P * sizeof(real));
                tp[i] += side == 0 ? FD_EPS : -FD_EPS;
                kinks += forward_at(&f, tp, out);
                l[side] = 0;
                for (size_t k = 0; k < n_out; k++)
                    l[side] += r[k] * out[k];
            }
            numeric[i] = (l[0] - l[1]) / (2 * FD_EPS);
        }
        fprintf(stderr, "  %s (%zu params)\n", name, P);
        report_errors("backward", a, param_group, grad, numeric, P);
        CHECK_INT(kinks, 0);
        /* backward accumulates: a second call doubles the gradient. */
        agent_forward(a, &f.work, f.theta, f.obs, f.batch, out);
        memcpy(numeric, grad, P * sizeof(real));
        agent_backward(a, &f.work, f.theta, f.obs, f.batch, r, grad);
        for (size_t i = 0; i < P; i++)
            CHECK_NEAR(grad[i], 2 * numeric[i], 1e-12 * (1 + fabs(numeric[i])));
        free(r), free(out), free(grad), free(numeric), free(tp);
        fixture_free(&f);
    }
}

TEST(agent_forward_tangent_matches_finite_differences)
{
    DOUBLE_ONLY("central finite differences to 1e-6");
    for (int c = 0; c < NUM_CASES; c++) {
        const char *name;
        AgentSpec spec = test_case(c, &name);
        Fixture f;
        fixture_init(&f, &spec, 6, 200 + c);
        const Agent *a = &f.agent;
        size_t n_out = (size_t)f.batch * a->num_outputs, P = a->num_params;
        real *out = calloc(n_out, sizeof(real)), *tangent = calloc(n_out, sizeof(real));
        real *plus = calloc(n_out, sizeof(real)), *minus = calloc(n_out, sizeof(real));
        real *tp = calloc(P, sizeof(real));
        agent_forward(a, &f.work, f.theta, f.obs, f.batch, out);
        relu_pattern(&f, 1);
        agent_forward_tangent(a, &f.work, f.theta, f.v, f.obs, f.batch, tangent);
        axpy_into(tp, f.theta, FD_EPS, f.v, P);
        int kinks = forward_at(&f, tp, plus);
        axpy_into(tp, f.theta, -FD_EPS, f.v, P);
        kinks += forward_at(&f, tp, minus);
        for (size_t k = 0; k < n_out; k++)
            plus[k] = (plus[k] - minus[k]) / (2 * FD_EPS);
        fprintf(stderr, "  %s\n", name);
        report_errors("forward tangent", a, output_group, tangent, plus, n_out);
        CHECK_INT(kinks, 0);
        free(out), free(tangent), free(plus), free(minus), free(tp);
        fixture_free(&f);
    }
}

/* grad = backward(θ', g') from zero, at θ' = θ + s v, g' = g + s δg. Returns relu differences. */
static int backward_at(Fixture *f, double s, const real *g, const real *dg, real *grad,
                       real *tp, real *gp, real *out)
{
    const Agent *a = &f->agent;
    size_t n_out = (size_t)f->batch * a->num_outputs;
    axpy_into(tp, f->theta, s, f->v, a->num_params);
    axpy_into(gp, g, s, dg, n_out);
    int kinks = forward_at(f, tp, out);
    memset(grad, 0, a->num_params * sizeof(real));
    agent_backward(a, &f->work, tp, f->obs, f->batch, gp, grad);
    return kinks;
}

TEST(agent_backward_tangent_matches_finite_differences)
{
    DOUBLE_ONLY("central finite differences to 1e-6");
    for (int c = 0; c < NUM_CASES; c++) {
        const char *name;
        AgentSpec spec = test_case(c, &name);
        Fixture f;
        fixture_init(&f, &spec, 6, 300 + c);
        const Agent *a = &f.agent;
        size_t n_out = (size_t)f.batch * a->num_outputs, P = a->num_params;
        real *g = calloc(n_out, sizeof(real)), *dg = calloc(n_out, sizeof(real));
        real *out = calloc(n_out, sizeof(real)), *gp = calloc(n_out, sizeof(real));
        real *hv = calloc(P, sizeof(real)), *plus = calloc(P, sizeof(real));
        real *minus = calloc(P, sizeof(real)), *tp = calloc(P, sizeof(real));
        fill_normal(g, n_out, &f.rng, 1.0);
        fill_normal(dg, n_out, &f.rng, 1.0);
        agent_forward(a, &f.work, f.theta, f.obs, f.batch, out);
        relu_pattern(&f, 1);
        agent_forward_tangent(a, &f.work, f.theta, f.v, f.obs, f.batch, gp);
        agent_backward_tangent(a, &f.work, f.theta, f.v, f.obs, f.batch, g, dg, hv);
        int kinks = backward_at(&f, FD_EPS, g, dg, plus, tp, gp, out);
        kinks += backward_at(&f, -FD_EPS, g, dg, minus, tp, gp, out);
        for (size_t i = 0; i < P; i++)
            plus[i] = (plus[i] - minus[i]) / (2 * FD_EPS);
        fprintf(stderr, "  %s\n", name);
        report_errors("backward tangent", a, param_group, hv, plus, P);
        CHECK_INT(kinks, 0);
        free(g), free(dg), free(out), free(gp), free(hv), free(plus), free(minus), free(tp);
        fixture_free(&f);
    }
}

/* ∇L(θ + s v) of the Eq. 2 loss, from zero. Returns relu differences from the record. */
static int loss_gradient_at(Fixture *f, double s, real *grad, real *tp)
{
    const Agent *a = &f->agent;
    axpy_into(tp, f->theta, s, f->v, a->num_params);
    memset(grad, 0, a->num_params * sizeof(real));
    lpg_loss_gradient(a, &f->work, tp, f->obs, f->batch, &f->loss, grad);
    return relu_pattern(f, 0);
}

TEST(agent_lpg_loss_gradient_and_hvp_match_finite_differences)
{
    DOUBLE_ONLY("central finite differences to 1e-6");
    /* every case with the KL form, then with unconstrained y (y_raw: log_y_hat holds ŷ) */
    for (int c = 0; c < 2 * NUM_CASES; c++) {
        const char *name;
        AgentSpec spec = test_case(c % NUM_CASES, &name);
        Fixture f;
        fixture_init(&f, &spec, 8, 400 + c + (c >= NUM_CASES ? 4000 : 0));
        f.loss.y_raw = c >= NUM_CASES;
        const Agent *a = &f.agent;
        size_t P = a->num_params;
        real *grad = calloc(P, sizeof(real)), *numeric = calloc(P, sizeof(real));
        real *hv = calloc(P, sizeof(real)), *plus = calloc(P, sizeof(real));
        real *minus = calloc(P, sizeof(real)), *tp = calloc(P, sizeof(real));
        real loss = lpg_loss_gradient(a, &f.work, f.theta, f.obs, f.batch, &f.loss, grad);
        relu_pattern(&f, 1);
        CHECK(isfinite(loss));
        /* The gradient of the loss through the network. */
        int kinks = 0;
        for (size_t i = 0; i < P; i++) {
            double l[2];
            for (int side = 0; side < 2; side++) {
                memcpy(tp, f.theta, P * sizeof(real));
                tp[i] += side == 0 ? FD_EPS : -FD_EPS;
                agent_forward(a, &f.work, tp, f.obs, f.batch, f.work.out);
                kinks += relu_pattern(&f, 0);
                agent_softmax(a, &f.work, f.batch);
                l[side] = lpg_loss_batch(a, &f.loss, &f.work, f.batch, f.work.dout);
            }
            numeric[i] = (l[0] - l[1]) / (2 * FD_EPS);
        }
        fprintf(stderr, "  %s%s\n", name, f.loss.y_raw ? " (y_raw)" : "");
        report_errors("Eq. 2 gradient", a, param_group, grad, numeric, P);
        /* H v against (∇L(θ + εv) - ∇L(θ - εv)) / 2ε. */
        real loss_again = lpg_loss_hvp(a, &f.work, f.theta, f.obs, f.batch, &f.loss, f.v, hv);
        CHECK_NEAR(loss_again, loss, 1e-14);
        kinks += loss_gradient_at(&f, FD_EPS, plus, tp);
        kinks += loss_gradient_at(&f, -FD_EPS, minus, tp);
        for (size_t i = 0; i < P; i++)
            plus[i] = (plus[i] - minus[i]) / (2 * FD_EPS);
        report_errors("Eq. 2 hvp", a, param_group, hv, plus, P);
        CHECK_INT(kinks, 0);
        free(grad), free(numeric), free(hv), free(plus), free(minus), free(tp);
        fixture_free(&f);
    }
}

/* ⟨∇_θ L, v⟩ with the rule's outputs as given in f->loss. */
static double directional_derivative(Fixture *f, real *grad)
{
    const Agent *a = &f->agent;
    memset(grad, 0, a->num_params * sizeof(real));
    lpg_loss_gradient(a, &f->work, f->theta, f->obs, f->batch, &f->loss, grad);
    double dot = 0;
    for (size_t i = 0; i < a->num_params; i++)
        dot += grad[i] * f->v[i];
    return dot;
}

TEST(agent_lpg_loss_mixed_derivatives_through_the_network)
{
    DOUBLE_ONLY("central finite differences to 1e-6");
    /* After lpg_loss_hvp, work->out_tangent = J v; lpg_loss_batch_mixed then gives
     * ∂⟨∇_θ L, v⟩/∂(π̂, log ŷ), the upstream gradients of the meta-gradient's rule VJP. */
    /* every case with the KL form, then with unconstrained y (y_raw: log_y_hat holds ŷ) */
    for (int c = 0; c < 2 * NUM_CASES; c++) {
        const char *name;
        AgentSpec spec = test_case(c % NUM_CASES, &name);
        Fixture f;
        fixture_init(&f, &spec, 5, 500 + c + (c >= NUM_CASES ? 4000 : 0));
        f.loss.y_raw = c >= NUM_CASES;
        const Agent *a = &f.agent;
        int B = f.batch, m = a->num_y;
        size_t P = a->num_params, n_rule = (size_t)B * (1 + m);
        real *hv = calloc(P, sizeof(real)), *grad = calloc(P, sizeof(real));
        real *analytic = calloc(n_rule, sizeof(real)), *numeric = calloc(n_rule, sizeof(real));
        lpg_loss_hvp(a, &f.work, f.theta, f.obs, B, &f.loss, f.v, hv);
        lpg_loss_batch_mixed(a, &f.loss, &f.work, B, analytic, analytic + B);
        /* Numeric: perturb each π̂_b, then each log ŷ_bj. */
        for (size_t k = 0; k < n_rule; k++) {
            real *input = k < (size_t)B ? &f.pi_hat[k] : &f.log_y_hat[k - B];
            real saved = *input;
            *input = saved + (real)FD_EPS;
            double up = directional_derivative(&f, grad);
            *input = saved - (real)FD_EPS;
            double down = directional_derivative(&f, grad);
            *input = saved;
            numeric[k] = (up - down) / (2 * FD_EPS);
        }
        Agent layout = {0}; /* groups: the first B entries are ∂/∂π̂, the rest ∂/∂log ŷ */
        layout.y_offset = B;
        fprintf(stderr, "  %s%s\n", name, f.loss.y_raw ? " (y_raw)" : "");
        report_errors("mixed", &layout, rule_output_group, analytic, numeric, n_rule);
        free(hv), free(grad), free(analytic), free(numeric);
        fixture_free(&f);
    }
}

/* ---- setup, layout and init ----------------------------------------------------------- */

TEST(agent_setup_layout_and_init)
{
    Agent a;
    AgentSpec s = mlp_spec(2, 1, 30);
    s.obs_dim = 484, s.hidden[0] = 64, s.hidden[1] = 32, s.num_actions = 9;
    CHECK(agent_setup(&a, &s) == 0);
    CHECK_INT(a.num_outputs, 9 + 30 + 1);
    CHECK_INT(a.y_offset, 9);
    CHECK_INT(a.value_offset, 39);
    CHECK_INT(a.num_layers, 3);
    CHECK_INT(a.weight[0], 0);
    CHECK_INT(a.bias[0], 484 * 64);
    CHECK_INT(a.weight[1], 484 * 64 + 64);
    CHECK_INT(a.weight[2], 484 * 64 + 64 + 64 * 32 + 32);
    CHECK_INT(a.num_params, 484 * 64 + 64 + 64 * 32 + 32 + 32 * 40 + 40);

    /* Init is deterministic per seed, biases start at zero, output weights are small. */
    real *t1 = calloc(a.num_params, sizeof(real)), *t2 = calloc(a.num_params, sizeof(real));
    Rng r1, r2;
    rng_seed(&r1, 5, 0);
    rng_seed(&r2, 5, 0);
    agent_init_params(&a, t1, &r1);
    agent_init_params(&a, t2, &r2);
    CHECK(memcmp(t1, t2, a.num_params * sizeof(real)) == 0);
    double sq = 0;
    for (int i = 0; i < 484 * 64; i++)
        sq += t1[i] * t1[i];
    CHECK_NEAR(sq / (484 * 64), 2.0 / 484, 0.1 * 2.0 / 484);
    for (int j = 0; j < 64; j++)
        CHECK(t1[a.bias[0] + j] == 0);
    double out_sq = 0;
    for (int i = 0; i < 32 * 40; i++)
        out_sq += t1[a.weight[2] + i] * t1[a.weight[2] + i];
    CHECK_NEAR(out_sq / (32 * 40), 0.01 / 32, 0.2 * 0.01 / 32);
    free(t1), free(t2);

    AgentSpec t = tabular_spec(0, 30);
    t.num_states = 1936, t.num_actions = 9;
    CHECK(agent_setup(&a, &t) == 0);
    CHECK_INT(a.num_params, 1936 * 39);
    real *tab = calloc(a.num_params, sizeof(real));
    tab[7] = 3;
    agent_init_params(&a, tab, &r1);
    int nonzero = 0;
    for (size_t i = 0; i < a.num_params; i++)
        nonzero += tab[i] != 0;
    CHECK_INT(nonzero, 0);
    free(tab);

    /* Bad specs are refused with a message. */
    mute_stderr(); /* the refusals below each print a message */
    AgentSpec bad = t;
    bad.num_states = 0;
    CHECK(agent_setup(&a, &bad) == -1);
    bad = s, bad.num_hidden = AGENT_MAX_HIDDEN + 1;
    CHECK(agent_setup(&a, &bad) == -1);
    bad = s, bad.hidden[1] = 0;
    CHECK(agent_setup(&a, &bad) == -1);
    bad = s, bad.num_actions = 0, bad.has_value = 0;
    CHECK(agent_setup(&a, &bad) == -1);
    bad = s, bad.num_actions = -1, bad.has_value = 1;
    CHECK(agent_setup(&a, &bad) == -1);
    unmute_stderr();
    /* A value-only network (the critic) has no action or y outputs: one output, the value. */
    AgentSpec value_only = s;
    value_only.num_actions = 0, value_only.num_y = 0, value_only.has_value = 1;
    CHECK(agent_setup(&a, &value_only) == 0);
    CHECK_INT(a.num_outputs, 1);
    CHECK_INT(a.value_offset, 0);
}

TEST(agent_tabular_outputs_are_rows_and_gradients_scatter)
{
    AgentSpec s = tabular_spec(1, 2);
    Agent a;
    CHECK(agent_setup(&a, &s) == 0);
    AgentWork w;
    CHECK(agent_work_init(&w, &a, 4) == 0);
    real theta[5 * 7];
    for (int i = 0; i < 35; i++)
        theta[i] = (real)i;
    int32_t index[4] = {3, 0, 3, 4};
    AgentObs obs = {index, NULL};
    real out[4 * 7], grad[35] = {0};
    agent_forward(&a, &w, theta, obs, 4, out);
    CHECK(out[0] == 21 && out[7] == 0 && out[14 + 6] == 27 && out[21 + 1] == 29);
    real ones[4 * 7];
    for (int i = 0; i < 28; i++)
        ones[i] = 1;
    agent_backward(&a, &w, theta, obs, 4, ones, grad);
    CHECK(grad[3 * 7] == 2 && grad[0] == 1 && grad[4 * 7 + 6] == 1 && grad[1 * 7] == 0);
    /* A slice of the observations. */
    AgentObs tail = agent_obs_offset(&a, obs, 2);
    agent_forward(&a, &w, theta, tail, 2, out);
    CHECK(out[0] == 21 && out[7] == 28);
    agent_work_free(&w);
    agent_work_free(&w); /* safe twice */
}

TEST(agent_mlp_batch_rows_are_independent_and_slices_agree)
{
    AgentSpec s = mlp_spec(2, 1, 6);
    Fixture f;
    fixture_init(&f, &s, 6, 600);
    const Agent *a = &f.agent;
    size_t n = (size_t)a->num_outputs;
    real *full = calloc(6 * n, sizeof(real)), *part = calloc(6 * n, sizeof(real));
    agent_forward(a, &f.work, f.theta, f.obs, 6, full);
    agent_forward(a, &f.work, f.theta, agent_obs_offset(a, f.obs, 4), 2, part);
    for (size_t i = 0; i < 2 * n; i++)
        CHECK_NEAR(part[i], full[4 * n + i], 1e-14);
    /* Initialised θ gives small logits: π and y near uniform at the start. */
    Rng rng;
    rng_seed(&rng, 9, 0);
    agent_init_params(a, f.theta, &rng);
    agent_forward(a, &f.work, f.theta, f.obs, 6, full);
    double worst = 0;
    for (size_t i = 0; i < 6 * n; i++)
        worst = fabs(full[i]) > worst ? fabs(full[i]) : worst;
    CHECK(worst < 0.5);
    free(full), free(part);
    fixture_free(&f);
}

/* ---- conv agents ---------------------------------------------------------------------- */

TEST(agent_conv_matches_a_direct_convolution)
{
    /* No hidden layer: out_j = b1_j + Σ_{oy,ox,f} relu(conv_f(oy, ox)) W1[(oy*OW+ox)*F+f, j], with
     * conv_f(oy, ox) = b0_f + Σ_{c,dy,dx} x[c][oy+dy][ox+dx] W0[(c*3+dy)*3+dx, f]: the definition
     * written as loops, against the im2col + gemm of agent_forward (on a binary image, as MinAtar
     * gives). The same at a batch slice. */
    AgentSpec s = conv_spec(0, 1, 6);
    Fixture f;
    fixture_init(&f, &s, 3, 700);
    const Agent *a = &f.agent;
    CHECK_INT(a->num_layers, 2);
    CHECK_INT(a->out_height, 2);
    CHECK_INT(a->out_width, 3);
    CHECK_INT(a->layer_rows[0], 6);
    CHECK_INT(a->layer_in[0], 18);
    CHECK_INT(a->layer_in[1], 18);
    CHECK_INT(a->num_params, 18 * 3 + 3 + 18 * a->num_outputs + a->num_outputs);
    for (int i = 0; i < 3 * s.obs_dim; i++)
        f.x[i] = (real)(rng_below(&f.rng, 2));
    size_t n = (size_t)a->num_outputs;
    real *out = calloc(3 * n, sizeof(real)), *part = calloc(n, sizeof(real));
    agent_forward(a, &f.work, f.theta, f.obs, 3, out);
    const real *w0 = f.theta + a->weight[0], *b0 = f.theta + a->bias[0];
    const real *w1 = f.theta + a->weight[1], *b1 = f.theta + a->bias[1];
    double worst = 0;
    int lit = 0;
    for (int b = 0; b < 3; b++) {
        const real *x = f.x + (size_t)b * s.obs_dim;
        for (size_t j = 0; j < n; j++) {
            double sum = b1[j];
            for (int oy = 0; oy < 2; oy++)
                for (int ox = 0; ox < 3; ox++)
                    for (int k = 0; k < 3; k++) {
                        double z = b0[k];
                        for (int c = 0; c < 2; c++)
                            for (int dy = 0; dy < 3; dy++)
                                for (int dx = 0; dx < 3; dx++)
                                    z += x[(c * 4 + oy + dy) * 5 + ox + dx] *
                                         w0[((c * 3 + dy) * 3 + dx) * 3 + k];
                        lit += j == 0 && z > 0;
                        if (z > 0)
                            sum += z * w1[(size_t)((oy * 3 + ox) * 3 + k) * n + j];
                    }
            double e = fabs(sum - out[(size_t)b * n + j]);
            worst = e > worst ? e : worst;
        }
    }
    fprintf(stderr, "    conv forward against loops: worst abs error %.2e, %d of 54 units on\n",
            worst, lit);
    CHECK(worst < TOL_LONG);
    CHECK(lit > 0 && lit < 54);
    agent_forward(a, &f.work, f.theta, agent_obs_offset(a, f.obs, 2), 1, part);
    for (size_t j = 0; j < n; j++)
        CHECK_NEAR(part[j], out[2 * n + j], 1e-14);
    free(out), free(part);
    fixture_free(&f);
}

TEST(agent_conv_spec_from_environments_and_config)
{
    /* "conv" on an image environment gives a conv agent; elsewhere the MLP or tabular agent. */
    CHECK(strcmp(agent_choice_names[AGENT_CHOICE_CONV], "conv") == 0);
    CHECK_INT(agent_choice_filters(AGENT_CHOICE_CONV), AGENT_CONV_FILTERS);
    CHECK(strcmp(agent_choice_names[AGENT_CHOICE_MLP], "mlp") == 0);
    CHECK_INT(agent_choice_filters(AGENT_CHOICE_MLP), 0);
    CHECK(agent_choice_names[2] == NULL);
    EnvSpec image = {0}, vector = {0}, table = {0};
    image.obs_dim = 400, image.obs_planes = 4, image.obs_height = 10, image.obs_width = 10;
    image.num_actions = 6;
    vector.obs_dim = 12, vector.num_actions = 2;
    table.num_states = 9, table.num_actions = 4;
    int hidden[1] = {128};
    AgentSpec spec;
    Agent a;
    CHECK(agent_spec_for_env(&spec, &image, AGENT_CONV_FILTERS, hidden, 1, 30, 0) == 0);
    CHECK_INT(spec.kind, AGENT_CONV);
    CHECK(agent_setup(&a, &spec) == 0);
    CHECK_INT(a.num_layers, 3);
    CHECK_INT(a.layer_rows[0], 64);
    CHECK_INT(a.layer_in[1], 8 * 8 * 16);
    CHECK_INT(a.num_params, (36 * 16 + 16) + (1024 * 128 + 128) + (128 * 36 + 36));
    CHECK(agent_spec_for_env(&spec, &image, 0, hidden, 1, 30, 0) == 0);
    CHECK_INT(spec.kind, AGENT_MLP);
    CHECK(agent_spec_for_env(&spec, &vector, AGENT_CONV_FILTERS, hidden, 1, 30, 0) == 0);
    CHECK_INT(spec.kind, AGENT_MLP);
    CHECK(agent_spec_for_env(&spec, &table, AGENT_CONV_FILTERS, hidden, 1, 30, 0) == 0);
    CHECK_INT(spec.kind, AGENT_TABULAR);
    /* Checks: some environment must have images; a bad image shape is refused by setup. */
    EnvSpec two[2] = {vector, image};
    CHECK(agent_check_kind(AGENT_CONV_FILTERS, two, 2, "x.json") == 0);
    CHECK(agent_check_kind(0, &vector, 1, "x.json") == 0);
    mute_stderr();
    CHECK(agent_check_kind(AGENT_CONV_FILTERS, &vector, 1, "x.json") == -1);
    AgentSpec bad = conv_spec(1, 0, 6);
    bad.in_width = 2, bad.obs_dim = 2 * 4 * 2;
    CHECK(agent_setup(&a, &bad) == -1);
    bad = conv_spec(1, 0, 6), bad.obs_dim = 41;
    CHECK(agent_setup(&a, &bad) == -1);
    bad = conv_spec(1, 0, 6), bad.conv_filters = 0;
    CHECK(agent_setup(&a, &bad) == -1);
    unmute_stderr();
}
