/* test_rule.c: the update rule η. Its backward pass against central finite differences for
 * every parameter group (double build), the episode-end reset of the backward LSTM, the zeroing
 * of φ(y') at episode ends, the L2 helper, and deterministic initialisation. */
#include <stdlib.h>
#include <string.h>

#include "rule.h"
#include "test.h"

#define FD_EPS 1e-3 /* step of the fourth-order central difference */
/* Relative error = |a-b| / max(|a|, |b|, FD_FLOOR). The finite differences carry round-off of
 * about 1e-12 (the objective sums ~1000 terms), so gradients below the floor are held to an
 * absolute 1e-11 instead. Some are exactly zero: the forget-gate weights of the input d, since
 * the entering cell is zero wherever d = 1. */
#define FD_FLOOR 1e-5

/* A batch of inputs with its own storage. */
typedef struct {
    int n, t_len;
    real *reward, *gamma, *pi_taken, *y, *y_next, *value, *value_next;
    uint8_t *done;
    RuleInput in;
} Batch;

static void random_simplex(real *p, Rng *rng)
{
    double sum = 0;
    for (int j = 0; j < RULE_Y_DIM; j++) {
        p[j] = (real)exp(1.5 * rng_normal(rng));
        sum += p[j];
    }
    for (int j = 0; j < RULE_Y_DIM; j++)
        p[j] /= sum;
}

/* Random inputs. Episode ends (time-major index t*n + i): trajectory 0 ends mid-way and on its
 * last step, 1 mid-way only, 2 at the first step and twice more, 3 never; others at random. */
static Batch batch_make(int n, int t_len, uint64_t seed)
{
    Batch b = {.n = n, .t_len = t_len};
    size_t rows = (size_t)n * t_len;
    Rng rng;
    rng_seed(&rng, seed, 3);
    b.reward = calloc(rows, sizeof(real));
    b.pi_taken = calloc(rows, sizeof(real));
    b.gamma = calloc((size_t)n, sizeof(real));
    b.y = calloc(rows * RULE_Y_DIM, sizeof(real));
    b.y_next = calloc(rows * RULE_Y_DIM, sizeof(real));
    b.done = calloc(rows, 1);
    b.value = calloc(rows, sizeof(real));
    b.value_next = calloc(rows, sizeof(real));
    for (size_t r = 0; r < rows; r++) {
        b.value[r] = (real)rng_normal(&rng);
        b.value_next[r] = (real)rng_normal(&rng);
        b.reward[r] = (real)(2 * rng_uniform_double(&rng) - 1);
        b.pi_taken[r] = (real)(0.05 + 0.9 * rng_uniform_double(&rng));
        random_simplex(b.y + r * RULE_Y_DIM, &rng);
        random_simplex(b.y_next + r * RULE_Y_DIM, &rng);
    }
    for (int i = 0; i < n; i++) {
        b.gamma[i] = (real)(0.9 + 0.09 * rng_uniform_double(&rng));
        for (int t = 0; t < t_len; t++) {
            int end = rng_uniform_double(&rng) < 0.15;
            if (i == 0)
                end = t == t_len / 2 || t == t_len - 1;
            else if (i == 1)
                end = t == t_len / 3;
            else if (i == 2)
                end = t == 0 || t == 2 || t == t_len - 3;
            else if (i == 3)
                end = 0;
            b.done[(size_t)t * n + i] = (uint8_t)end;
        }
    }
    b.in = (RuleInput){b.reward, b.done, b.gamma, b.pi_taken, b.y, b.y_next, b.value, b.value_next,
                       {0, 0}};
    return b;
}

static void batch_free(Batch *b)
{
    free(b->reward);
    free(b->gamma);
    free(b->pi_taken);
    free(b->y);
    free(b->y_next);
    free(b->value);
    free(b->value_next);
    free(b->done);
}

static real *random_vector(size_t count, Rng *rng)
{
    real *v = malloc(count * sizeof(real));
    for (size_t i = 0; i < count; i++)
        v[i] = (real)rng_normal(rng);
    return v;
}

/* A random rule with every parameter (biases included) away from zero. */
static real *random_eta(const RuleLayout *layout, uint64_t seed)
{
    Rng rng;
    rng_seed(&rng, seed, 1);
    real *eta = malloc(layout->count * sizeof(real));
    rule_init(eta, layout, &rng);
    for (size_t i = 0; i < layout->count; i++)
        eta[i] += (real)(0.1 * rng_normal(&rng));
    return eta;
}

/* The scalar objectives of the gradient checks. */
typedef enum { OBJ_LINEAR, OBJ_LOG, OBJ_L2 } Objective;

typedef struct {
    Objective kind;
    const real *c_pi, *c_y; /* [rows], [rows*30] */
    double beta_pi, beta_y;
} ObjectiveSpec;

/* J = Σ c_pi·π̂ + Σ c_y·ŷ (OBJ_LINEAR), Σ c_pi·π̂ + Σ c_y·log ŷ (OBJ_LOG), or
 * Σ c_pi·π̂ + Σ c_y·ŷ - penalty (OBJ_L2). */
static double objective(RuleWork *w, const real *eta, const RuleLayout *layout, const Batch *b,
                        const ObjectiveSpec *spec)
{
    rule_forward(w, eta, layout, &b->in, b->n, b->t_len);
    int rows = b->n * b->t_len;
    const real *y_out = spec->kind == OBJ_LOG ? w->log_y_hat : w->y_hat;
    double sum = 0;
    for (int r = 0; r < rows; r++)
        sum += spec->c_pi[r] * w->pi_hat[r];
    for (size_t i = 0; layout->method != RULE_LPG_V && i < (size_t)rows * RULE_Y_DIM; i++)
        sum += spec->c_y[i] * y_out[i];
    if (spec->kind == OBJ_L2)
        sum -= rule_l2_penalty(layout, w->pi_hat, w->y_hat, rows, spec->beta_pi, spec->beta_y);
    return sum;
}

/* d_eta (zeroed here) = the backward pass's gradient of the objective. */
static void analytic_gradient(real *d_eta, RuleWork *w, const real *eta, const RuleLayout *layout,
                              const Batch *b, const ObjectiveSpec *spec)
{
    int rows = b->n * b->t_len;
    memset(d_eta, 0, layout->count * sizeof(real));
    rule_forward(w, eta, layout, &b->in, b->n, b->t_len);
    if (spec->kind == OBJ_LOG) {
        rule_backward(w, d_eta, eta, layout, spec->c_pi, spec->c_y, NULL);
        return;
    }
    /* A term c·ŷ has gradient ŷ ⊙ c wrt log ŷ, the form rule_backward takes (a y_raw rule takes
     * the gradient wrt ŷ, c itself; an LPG-V rule has no ŷ). */
    real *dpi = malloc((size_t)rows * sizeof(real));
    real *dlog_y = malloc((size_t)rows * RULE_Y_DIM * sizeof(real));
    memcpy(dpi, spec->c_pi, (size_t)rows * sizeof(real));
    for (size_t i = 0; layout->method != RULE_LPG_V && i < (size_t)rows * RULE_Y_DIM; i++)
        dlog_y[i] = layout->y_raw ? spec->c_y[i] : w->y_hat[i] * spec->c_y[i];
    if (spec->kind == OBJ_L2)
        rule_l2_backward(layout, dpi, dlog_y, w->pi_hat, w->y_hat, rows, spec->beta_pi,
                         spec->beta_y, -1);
    rule_backward(w, d_eta, eta, layout, dpi, layout->method == RULE_LPG_V ? NULL : dlog_y, NULL);
    free(dpi);
    free(dlog_y);
}

/* ∂J/∂eta[k] by the fourth-order central difference (error O(h^4), so truncation stays far
 * below the 1e-6 tolerance even where the objective curves sharply). */
static double finite_difference(RuleWork *w, real *eta, size_t k, const RuleLayout *lay,
                                const Batch *b, const ObjectiveSpec *spec)
{
    real saved = eta[k];
    double f[4];
    const double offsets[4] = {2, 1, -1, -2};
    for (int s = 0; s < 4; s++) {
        eta[k] = saved + (real)(offsets[s] * FD_EPS);
        f[s] = objective(w, eta, lay, b, spec);
    }
    eta[k] = saved;
    return (-f[0] + 8 * f[1] - 8 * f[2] + f[3]) / (12 * FD_EPS);
}

typedef struct {
    const char *name;
    size_t begin, end;
} Group;

/* Compares every parameter's gradient with central differences; prints the worst relative
 * error per group and returns the worst overall. */
static double check_gradient(const char *label, const RuleLayout *lay, const Batch *b,
                             const ObjectiveSpec *spec, uint64_t seed)
{
    RuleWork *w = rule_work_create(lay, b->n, b->t_len);
    real *eta = random_eta(lay, seed);
    real *d_eta = malloc(lay->count * sizeof(real));
    analytic_gradient(d_eta, w, eta, lay, b, spec);
    const Group groups[] = {
        {"phi", lay->phi_w1, lay->lstm_wx},   {"lstm_wx", lay->lstm_wx, lay->lstm_wh},
        {"lstm_wh", lay->lstm_wh, lay->lstm_b}, {"lstm_b", lay->lstm_b, lay->pi_w},
        {"pi_head", lay->pi_w, lay->y_w},     {"y_head", lay->y_w, lay->count},
    };
    double worst_all = 0;
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        if (lay->method == RULE_LPG_V && (g == 0 || g == 5)) {
            /* φ and the ŷ head are unused by LPG-V: exactly zero gradient */
            for (size_t k = groups[g].begin; k < groups[g].end; k++)
                CHECK(d_eta[k] == 0);
            continue;
        }
        double worst = 0, largest = 0;
        int below_floor = 0;
        for (size_t k = groups[g].begin; k < groups[g].end; k++) {
            double fd = finite_difference(w, eta, k, lay, b, spec);
            double err = rel_error(d_eta[k], fd, FD_FLOOR);
            if (err > worst && getenv("RULE_FD_DEBUG"))
                fprintf(stderr, "    k=%zu analytic %.15g fd %.15g\n", k, d_eta[k], fd);
            worst = err > worst ? err : worst;
            largest = fabs(fd) > largest ? fabs(fd) : largest;
            below_floor += fabs(fd) < FD_FLOOR;
        }
        fprintf(stderr, "  %s %-8s worst rel error %.2e (%zu params, %d below the floor, "
                "max |grad| %.2e)\n", label, groups[g].name, worst,
                groups[g].end - groups[g].begin, below_floor, largest);
        CHECK(worst < 1e-6);
        CHECK(largest > 1e-3); /* the group really is exercised */
        worst_all = worst > worst_all ? worst : worst_all;
    }
    free(eta);
    free(d_eta);
    rule_work_free(w);
    return worst_all;
}

static void run_gradient_check_kind(const char *label, Objective kind, int n, int t_len,
                                    int hidden, RuleMethod method, int y_raw)
{
    RuleLayout lay;
    rule_layout(&lay, hidden);
    lay.method = method;
    lay.y_raw = y_raw;
    Batch b = batch_make(n, t_len, 11);
    Rng rng;
    rng_seed(&rng, 5, 2);
    int rows = n * t_len;
    real *c_pi = random_vector((size_t)rows, &rng);
    real *c_y = random_vector((size_t)rows * RULE_Y_DIM, &rng);
    ObjectiveSpec spec = {kind, c_pi, c_y, 0.3, 0.7};
    check_gradient(label, &lay, &b, &spec, 21);
    free(c_pi);
    free(c_y);
    batch_free(&b);
}

static void run_gradient_check(const char *label, Objective kind, int n, int t_len, int hidden)
{
    run_gradient_check_kind(label, kind, n, t_len, hidden, RULE_LPG, 0);
}

TEST(rule_backward_matches_finite_differences)
{
    DOUBLE_ONLY("central finite differences to 1e-6");
    run_gradient_check("dJ/deta", OBJ_LINEAR, 5, 20, 6);
}

TEST(rule_backward_log_form_matches_finite_differences)
{
    DOUBLE_ONLY("central finite differences to 1e-6");
    run_gradient_check("dJ/deta (log y_hat)", OBJ_LOG, 4, 9, 5);
}

TEST(rule_l2_gradient_matches_finite_differences)
{
    DOUBLE_ONLY("central finite differences to 1e-6");
    run_gradient_check("dJ/deta (with L2)", OBJ_L2, 4, 9, 5);
}

/* An LPG-V rule (values in the φ slots, π̂ only) and a rule with unconstrained ŷ. */
TEST(rule_backward_lpg_v_matches_finite_differences)
{
    DOUBLE_ONLY("central finite differences to 1e-6");
    run_gradient_check_kind("dJ/deta (LPG-V)", OBJ_LINEAR, 5, 12, 6, RULE_LPG_V, 0);
    run_gradient_check_kind("dJ/deta (LPG-V, L2)", OBJ_L2, 4, 9, 5, RULE_LPG_V, 0);
}

TEST(rule_backward_raw_y_matches_finite_differences)
{
    DOUBLE_ONLY("central finite differences to 1e-6");
    run_gradient_check_kind("dJ/deta (raw y)", OBJ_LINEAR, 5, 12, 6, RULE_LPG, 1);
    run_gradient_check_kind("dJ/deta (raw y, L2)", OBJ_L2, 4, 9, 5, RULE_LPG, 1);
}

/* LPG-V reads the values where LPG reads φ(y), φ(y'), v(s') zeroed at episode ends. */
TEST(rule_lpg_v_reads_the_values)
{
    RuleLayout lay;
    rule_layout(&lay, 4);
    lay.method = RULE_LPG_V;
    Batch b = batch_make(4, 6, 9);
    RuleWork *w = rule_work_create(&lay, 4, 6);
    real *eta = random_eta(&lay, 2);
    rule_forward(w, eta, &lay, &b.in, 4, 6);
    for (int r = 0; r < 24; r++) {
        CHECK(w->x[r * RULE_X_DIM + RULE_X_PHI_Y] == b.value[r]);
        CHECK(w->x[r * RULE_X_DIM + RULE_X_PHI_Y_NEXT] == (b.done[r] ? 0 : b.value_next[r]));
    }
    CHECK(strcmp(rule_kind_name(&lay), "lpg_v") == 0);
    free(eta);
    rule_work_free(w);
    batch_free(&b);
}

/* The L2 helper on its own: its gradient wrt free π̂, ŷ entries. */
TEST(rule_l2_backward_is_the_penalty_gradient)
{
    enum { ROWS = 3 };
    real pi[ROWS] = {0.5, -1.5, 2.0}, y[ROWS * RULE_Y_DIM];
    real dpi[ROWS] = {0}, dlog_y[ROWS * RULE_Y_DIM] = {0};
    for (int i = 0; i < ROWS * RULE_Y_DIM; i++)
        y[i] = (real)(0.01 * (i % 7));
    RuleLayout lay, raw;
    rule_layout(&lay, 4);
    raw = lay;
    raw.y_raw = 1;
    rule_l2_backward(&lay, dpi, dlog_y, pi, y, ROWS, 0.2, 0.4, 0.5);
    for (int r = 0; r < ROWS; r++)
        CHECK_CLOSE(dpi[r], 0.5 * 2 * 0.2 * pi[r], TOL_ROUND);
    for (int i = 0; i < ROWS * RULE_Y_DIM; i++)
        CHECK_CLOSE(dlog_y[i], y[i] * 0.5 * 2 * 0.4 * y[i], TOL_ROUND);
    double sum_y = 0;
    for (int i = 0; i < ROWS * RULE_Y_DIM; i++)
        sum_y += y[i] * y[i];
    CHECK_CLOSE(rule_l2_penalty(&lay, pi, y, ROWS, 0.2, 0.4), 0.2 * 6.5 + 0.4 * sum_y, TOL_LONG);
    /* unconstrained ŷ: the gradient wrt ŷ itself */
    memset(dlog_y, 0, sizeof dlog_y);
    rule_l2_backward(&raw, dpi, dlog_y, pi, y, ROWS, 0.2, 0.4, 0.5);
    for (int i = 0; i < ROWS * RULE_Y_DIM; i++)
        CHECK_CLOSE(dlog_y[i], 0.5 * 2 * 0.4 * y[i], TOL_ROUND);
}

/* Backward passes accumulate: two calls give twice the gradient. */
TEST(rule_backward_accumulates)
{
    RuleLayout lay;
    rule_layout(&lay, 4);
    Batch b = batch_make(3, 6, 2);
    RuleWork *w = rule_work_create(&lay, 3, 6);
    real *eta = random_eta(&lay, 3);
    Rng rng;
    rng_seed(&rng, 4, 0);
    real *c_pi = random_vector(18, &rng), *c_y = random_vector(18 * RULE_Y_DIM, &rng);
    real *once = calloc(lay.count, sizeof(real)), *twice = calloc(lay.count, sizeof(real));
    rule_forward(w, eta, &lay, &b.in, 3, 6);
    rule_backward(w, once, eta, &lay, c_pi, c_y, NULL);
    rule_backward(w, twice, eta, &lay, c_pi, c_y, NULL);
    rule_backward(w, twice, eta, &lay, c_pi, c_y, NULL);
    double worst = 0;
    for (size_t k = 0; k < lay.count; k++)
        worst = fmax(worst, rel_error(twice[k], 2 * once[k], 1e-12));
    fprintf(stderr, "    worst rel error %.2e\n", worst);
    CHECK(worst < TOL_LONG);
    free(once);
    free(twice);
    free(c_pi);
    free(c_y);
    free(eta);
    rule_work_free(w);
    batch_free(&b);
}

TEST(rule_outputs_are_distributions)
{
    RuleLayout lay;
    rule_layout(&lay, 8);
    Batch b = batch_make(4, 10, 6);
    RuleWork *w = rule_work_create(&lay, 8, 20); /* larger than used: sizes may shrink */
    real *eta = random_eta(&lay, 1);
    rule_forward(w, eta, &lay, &b.in, 4, 10);
    for (int r = 0; r < 40; r++) {
        double sum = 0;
        for (int j = 0; j < RULE_Y_DIM; j++) {
            real p = w->y_hat[r * RULE_Y_DIM + j];
            CHECK(p > 0 && p < 1);
            CHECK_CLOSE(log(p), w->log_y_hat[r * RULE_Y_DIM + j], TOL_ROUND);
            sum += p;
        }
        CHECK_CLOSE(sum, 1.0, TOL_LONG);
        CHECK(isfinite(w->pi_hat[r]));
    }
    free(eta);
    rule_work_free(w);
    batch_free(&b);
}

/* Copies of the outputs of one forward pass. */
typedef struct {
    real *pi_hat, *y_hat;
} Outputs;

static Outputs run_outputs(RuleWork *w, const real *eta, const RuleLayout *lay, const Batch *b)
{
    size_t rows = (size_t)b->n * b->t_len;
    Outputs o = {malloc(rows * sizeof(real)), malloc(rows * RULE_Y_DIM * sizeof(real))};
    rule_forward(w, eta, lay, &b->in, b->n, b->t_len);
    memcpy(o.pi_hat, w->pi_hat, rows * sizeof(real));
    memcpy(o.y_hat, w->y_hat, rows * RULE_Y_DIM * sizeof(real));
    return o;
}

static void outputs_free(Outputs *o)
{
    free(o->pi_hat);
    free(o->y_hat);
}

/* 1 if the outputs of trajectory i at step t are bitwise equal in a and b. */
static int same_step(const Outputs *a, const Outputs *b, int n, int t, int i)
{
    size_t r = (size_t)t * n + i;
    return a->pi_hat[r] == b->pi_hat[r] &&
           memcmp(a->y_hat + r * RULE_Y_DIM, b->y_hat + r * RULE_Y_DIM,
                  RULE_Y_DIM * sizeof(real)) == 0;
}

/* The LSTM runs backward in time, so an output at t <= end (end: a step with d = 1) depends only
 * on inputs in [t, end]. Changing inputs after the end must leave the earlier episode alone, and
 * must change the later steps it feeds (else the test proves nothing). */
TEST(rule_reset_cuts_dependence_at_episode_ends)
{
    enum { N = 4, T = 12, END = T / 2 }; /* trajectory 0 ends at T/2 (see batch_make) */
    RuleLayout lay;
    rule_layout(&lay, 8);
    Batch b = batch_make(N, T, 9);
    CHECK_INT(b.done[END * N + 0], 1);
    RuleWork *w = rule_work_create(&lay, N, T);
    real *eta = random_eta(&lay, 2);
    Outputs base = run_outputs(w, eta, &lay, &b);
    for (int t_changed = END + 1; t_changed < T; t_changed++) {
        size_t r = (size_t)t_changed * N;
        real saved_reward = b.reward[r], saved_pi = b.pi_taken[r], saved_y = b.y[r * RULE_Y_DIM];
        b.reward[r] += 1;
        b.pi_taken[r] *= 0.5;
        b.y[r * RULE_Y_DIM] += 0.3;
        Outputs changed = run_outputs(w, eta, &lay, &b);
        for (int t = 0; t <= END; t++)
            CHECK(same_step(&base, &changed, N, t, 0));
        CHECK(!same_step(&base, &changed, N, t_changed, 0));
        for (int t = 0; t < T; t++) /* other trajectories are independent */
            for (int i = 1; i < N; i++)
                CHECK(same_step(&base, &changed, N, t, i));
        b.reward[r] = saved_reward;
        b.pi_taken[r] = saved_pi;
        b.y[r * RULE_Y_DIM] = saved_y;
        outputs_free(&changed);
    }
    /* An input inside the episode (at END) does reach every earlier step of it. */
    b.reward[END * N] += 1;
    Outputs inside = run_outputs(w, eta, &lay, &b);
    for (int t = 0; t <= END; t++)
        CHECK(!same_step(&base, &inside, N, t, 0));
    outputs_free(&inside);
    outputs_free(&base);
    free(eta);
    rule_work_free(w);
    batch_free(&b);
}

/* φ(y') is zeroed where the episode ended: y' there changes nothing, elsewhere it does. */
TEST(rule_phi_of_next_y_is_zero_at_episode_ends)
{
    enum { N = 4, T = 10 };
    RuleLayout lay;
    rule_layout(&lay, 6);
    Batch b = batch_make(N, T, 4);
    RuleWork *w = rule_work_create(&lay, N, T);
    real *eta = random_eta(&lay, 5);
    Outputs base = run_outputs(w, eta, &lay, &b);
    int ends = 0;
    for (int r = 0; r < N * T; r++) {
        CHECK(w->x[r * RULE_X_DIM + 1] == (b.done[r] ? 1 : 0));
        if (b.done[r]) {
            CHECK(w->x[r * RULE_X_DIM + 5] == 0);
            ends++;
        } else {
            CHECK(w->x[r * RULE_X_DIM + 5] != 0);
        }
    }
    CHECK(ends >= 5);
    for (int r = 0; r < N * T; r++) {
        real *y_next = b.y_next + (size_t)r * RULE_Y_DIM;
        real saved = y_next[0];
        y_next[0] += 0.5;
        Outputs changed = run_outputs(w, eta, &lay, &b);
        if (b.done[r]) {
            int all_same = 1;
            for (int k = 0; k < N * T; k++)
                all_same &= same_step(&base, &changed, N, k / N, k % N);
            CHECK(all_same);
        } else {
            CHECK(!same_step(&base, &changed, N, r / N, r % N));
        }
        y_next[0] = saved;
        outputs_free(&changed);
    }
    outputs_free(&base);
    free(eta);
    rule_work_free(w);
    batch_free(&b);
}

TEST(rule_init_is_deterministic_per_seed)
{
    RuleLayout lay;
    rule_layout(&lay, 16);
    real *a = malloc(lay.count * sizeof(real)), *b = malloc(lay.count * sizeof(real));
    real *c = malloc(lay.count * sizeof(real));
    Rng ra, rb, rc;
    rng_seed(&ra, 77, 0);
    rng_seed(&rb, 77, 0);
    rng_seed(&rc, 78, 0);
    rule_init(a, &lay, &ra);
    rule_init(b, &lay, &rb);
    rule_init(c, &lay, &rc);
    CHECK(memcmp(a, b, lay.count * sizeof(real)) == 0);
    CHECK(memcmp(a, c, lay.count * sizeof(real)) != 0);
    for (int j = 0; j < 16; j++) {
        CHECK(a[lay.lstm_b + j] == 0);      /* input gate */
        CHECK(a[lay.lstm_b + 16 + j] == 1); /* forget gate */
    }
    CHECK_INT(lay.count, 30 * 16 + 16 + 16 + 1 + 6 * 64 + 16 * 64 + 64 + 16 + 1 + 16 * 30 + 30);
    free(a);
    free(b);
    free(c);
}

/* ∂J/∂input by the fourth-order central difference, input being one entry of the batch. */
static double input_difference(RuleWork *w, const real *eta, const RuleLayout *lay,
                               const Batch *b, const ObjectiveSpec *spec, real *input)
{
    real saved = *input;
    double f[4];
    const double offsets[4] = {2, 1, -1, -2};
    for (int s = 0; s < 4; s++) {
        *input = saved + (real)(offsets[s] * FD_EPS);
        f[s] = objective(w, eta, lay, b, spec);
    }
    *input = saved;
    return (-f[0] + 8 * f[1] - 8 * f[2] + f[3]) / (12 * FD_EPS);
}

/* The worst relative error of d [count] against finite differences in the entries input
 * [count] of the batch; prints it with the largest |d|. The floor is 1e-3 x the largest |d| (as
 * in test_metagrad.c): a y entry moves J little, and its differences carry round-off of a few
 * 1e-11 absolute (it shrinks as 1/h when h grows: round-off, not truncation). */
static double check_input_group(const char *name, RuleWork *w, const real *eta,
                                const RuleLayout *lay, const Batch *b, const ObjectiveSpec *spec,
                                real *input, const real *d, size_t count)
{
    double worst = 0, largest = 0, floor = FD_FLOOR;
    for (size_t k = 0; k < count; k++)
        floor = fmax(floor, 1e-3 * fabs(d[k]));
    for (size_t k = 0; k < count; k++) {
        double fd = input_difference(w, eta, lay, b, spec, input + k);
        double err = rel_error(d[k], fd, floor);
        if (err > worst && getenv("RULE_FD_DEBUG"))
            fprintf(stderr, "    k=%zu analytic %.15g fd %.15g\n", k, d[k], fd);
        worst = fmax(worst, err);
        largest = fmax(largest, fabs(fd));
    }
    fprintf(stderr, "  dJ/d%-8s worst rel error %.2e (%zu inputs, max |grad| %.2e)\n", name,
            worst, count, largest);
    CHECK(largest > 1e-3); /* the inputs really matter */
    return worst;
}

/* rule_backward's input gradient: wrt π(a|s), y and y' against finite differences of
 * J = Σ c_pi·π̂ + Σ c_y·log ŷ, with episode ends in the batch (φ(y') zeroed there); its dη
 * equals that of the pass without the input gradient. */
TEST(rule_input_gradient_matches_finite_differences)
{
    DOUBLE_ONLY("central finite differences to 1e-6");
    enum { N = 4, T = 9 };
    const int rows = N * T;
    RuleLayout lay;
    rule_layout(&lay, 5);
    Batch b = batch_make(N, T, 17);
    Rng rng;
    rng_seed(&rng, 8, 2);
    real *c_pi = random_vector((size_t)rows, &rng);
    real *c_y = random_vector((size_t)rows * RULE_Y_DIM, &rng);
    ObjectiveSpec spec = {OBJ_LOG, c_pi, c_y, 0, 0};
    RuleWork *w = rule_work_create(&lay, N, T);
    real *eta = random_eta(&lay, 23);
    real *d_eta = calloc(lay.count, sizeof(real)), *d_eta_plain = calloc(lay.count, sizeof(real));
    real *d_pi = malloc((size_t)rows * sizeof(real));
    real *d_y = malloc((size_t)rows * RULE_Y_DIM * sizeof(real));
    real *d_y_next = malloc((size_t)rows * RULE_Y_DIM * sizeof(real));
    RuleInputGrad d_in = {d_pi, d_y, d_y_next};
    rule_forward(w, eta, &lay, &b.in, N, T);
    rule_backward(w, d_eta, eta, &lay, c_pi, c_y, &d_in);
    rule_backward(w, d_eta_plain, eta, &lay, c_pi, c_y, NULL);
    CHECK(memcmp(d_eta, d_eta_plain, lay.count * sizeof(real)) == 0);
    int ends = 0;
    for (int r = 0; r < rows; r++) {
        if (!b.done[r])
            continue;
        ends++;
        for (int j = 0; j < RULE_Y_DIM; j++)
            CHECK(d_y_next[(size_t)r * RULE_Y_DIM + j] == 0);
    }
    CHECK(ends >= 3);
    size_t ys = (size_t)rows * RULE_Y_DIM;
    CHECK(check_input_group("pi_taken", w, eta, &lay, &b, &spec, b.pi_taken, d_pi,
                            (size_t)rows) < 1e-6);
    CHECK(check_input_group("y", w, eta, &lay, &b, &spec, b.y, d_y, ys) < 1e-6);
    CHECK(check_input_group("y_next", w, eta, &lay, &b, &spec, b.y_next, d_y_next, ys) < 1e-6);
    free(d_pi);
    free(d_y);
    free(d_y_next);
    free(d_eta);
    free(d_eta_plain);
    free(eta);
    free(c_pi);
    free(c_y);
    rule_work_free(w);
    batch_free(&b);
}

/* The groups of η, worked by hand for H = 2 (gates 4H = 8): φ 30x16 + 16 + 16 + 1 = 513 reals,
 * then lstm_wx 6x8 = 48 (8x8 = 64 with the lifetime inputs), lstm_wh 2x8 = 16, lstm_b 8,
 * pi_w 2, pi_b 1, y_w 2x30 = 60, y_b 30: 678 in all (694 with the lifetime inputs). */
TEST(rule_groups_lie_one_after_another_with_their_sizes)
{
    static const size_t size[RULE_GROUPS] = {480, 16, 16, 1, 48, 16, 8, 2, 1, 60, 30};
    RuleLayout lay;
    rule_layout(&lay, 2);
    size_t at = 0;
    for (int g = 0; g < RULE_GROUPS; g++) {
        CHECK_INT((long long)lay.at[g], (long long)at);
        at += size[g];
    }
    CHECK_INT((long long)lay.count, 678);
    CHECK_INT((long long)lay.at[RULE_GROUPS], 678);
    CHECK_INT((long long)lay.lstm_wx, 513); /* the names and the table are one */
    CHECK_INT((long long)lay.y_b, 648);
    CHECK(strcmp(rule_group_names[RULE_GROUP_LSTM_WH], "lstm_wh") == 0);
    rule_layout_lifetime(&lay, 2, 1);
    CHECK_INT((long long)(lay.lstm_wh - lay.lstm_wx), 64);
    CHECK_INT((long long)lay.count, 694);
}
