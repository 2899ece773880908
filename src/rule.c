/* rule.c: the learned update rule η, forward and hand-written backward (BPTT).
 *
 * Row-major throughout; every matrix product goes through real_gemm. The batch is time-major, so
 * the n trajectories at one step are n consecutive rows: the input-to-gates product is one gemm
 * over all steps, the hidden-to-gates product one gemm per step, and the weight gradients one gemm
 * each over all steps. Each layer is a forward/backward pair on raw pointers with explicit sizes;
 * backward functions accumulate (+=) into parameter gradients. */
#include "rule.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "buffers.h"
#include "linalg.h"
#include "util.h"
#include "vecmath.h"

/* ---- φ: y [rows x 30] -> tanh(y W1 + b1) [rows x 16] -> · w2 + b2 [rows] ------------------- */

static void phi_forward(real *out, real *hidden, const real *y, const real *w1, const real *b1,
                        const real *w2, const real *b2, int rows)
{
    linear_forward(hidden, y, w1, b1, rows, RULE_Y_DIM, RULE_PHI_HIDDEN);
    vec_tanh(hidden, hidden, (size_t)rows * RULE_PHI_HIDDEN);
    for (int r = 0; r < rows; r++) {
        const real *hrow = hidden + (size_t)r * RULE_PHI_HIDDEN;
        real sum = b2[0];
        for (int j = 0; j < RULE_PHI_HIDDEN; j++)
            sum += hrow[j] * w2[j];
        out[r] = sum;
    }
}

/* Accumulates the gradients of φ's weights given dout [rows]; dhidden [rows x 16] is scratch. */
static void phi_backward(real *dw1, real *db1, real *dw2, real *db2, real *dhidden,
                         const real *dout, const real *hidden, const real *y, const real *w2,
                         int rows)
{
    for (int r = 0; r < rows; r++) {
        const real *hrow = hidden + (size_t)r * RULE_PHI_HIDDEN;
        real *drow = dhidden + (size_t)r * RULE_PHI_HIDDEN;
        db2[0] += dout[r];
        for (int j = 0; j < RULE_PHI_HIDDEN; j++) {
            dw2[j] += dout[r] * hrow[j];
            drow[j] = dout[r] * w2[j] * ((real)1 - hrow[j] * hrow[j]);
        }
    }
    matmul(dw1, y, dhidden, RULE_Y_DIM, RULE_PHI_HIDDEN, rows, 1, 0, 1);
    add_column_sums(db1, dhidden, rows, RULE_PHI_HIDDEN);
}

/* ---- LSTM cell: pre-activations [n x 4H] (blocks i, f, g, o) and the entering state ---------- */

/* Turns gates [n x 4H] from pre-activations into activations (in place) and computes the new
 * cell [n x H], tanh(cell) and h: one fused pass per row, vectorised along the width. */
VEC_KERNEL void lstm_cell_forward_body(real *gates, real *cell, real *tanh_cell, real *h,
                                       const real *cell_in, int n, int hidden)
{
    for (int r = 0; r < n; r++) {
        real *restrict gi = gates + (size_t)r * 4 * hidden, *restrict gf = gi + hidden;
        real *restrict gg = gf + hidden, *restrict go = gg + hidden;
        size_t o = (size_t)r * hidden;
        real *restrict c = cell + o, *restrict tc = tanh_cell + o, *restrict hr = h + o;
        const real *restrict c_in = cell_in + o;
#pragma omp simd
        for (int j = 0; j < hidden; j++) {
            gi[j] = vec_sigmoid1(gi[j]);
            gf[j] = vec_sigmoid1(gf[j]);
            gg[j] = real_tanh(gg[j]);
            go[j] = vec_sigmoid1(go[j]);
            c[j] = gf[j] * c_in[j] + gi[j] * gg[j];
            tc[j] = real_tanh(c[j]);
            hr[j] = go[j] * tc[j];
        }
    }
}
VEC_VERSIONS_VOID(lstm_cell_forward,
                  (real *gates, real *cell, real *tanh_cell, real *h, const real *cell_in, int n,
                   int hidden),
                  (gates, cell, tanh_cell, h, cell_in, n, hidden))

/* Given dh [n x H] (total gradient into h) and dcell [n x H] (gradient into the cell from the
 * step that consumed it), writes dgates [n x 4H] (wrt pre-activations) and overwrites dcell with
 * the gradient into the entering cell state. */
VEC_KERNEL void lstm_cell_backward_body(real *dgates, real *dcell, const real *dh,
                                        const real *gates, const real *tanh_cell,
                                        const real *cell_in, int n, int hidden)
{
    for (int r = 0; r < n; r++) {
        const real *restrict g = gates + (size_t)r * 4 * hidden;
        real *restrict dg = dgates + (size_t)r * 4 * hidden;
        size_t o = (size_t)r * hidden;
#pragma omp simd
        for (int j = 0; j < hidden; j++) {
            real gi = g[j], gf = g[hidden + j], gg = g[2 * hidden + j], go = g[3 * hidden + j];
            real tc = tanh_cell[o + j];
            real dc = dcell[o + j] + dh[o + j] * go * ((real)1 - tc * tc);
            dg[j] = dc * gg * gi * ((real)1 - gi);
            dg[hidden + j] = dc * cell_in[o + j] * gf * ((real)1 - gf);
            dg[2 * hidden + j] = dc * gi * ((real)1 - gg * gg);
            dg[3 * hidden + j] = dh[o + j] * tc * go * ((real)1 - go);
            dcell[o + j] = dc * gf;
        }
    }
}
VEC_VERSIONS_VOID(lstm_cell_backward,
                  (real *dgates, real *dcell, const real *dh, const real *gates,
                   const real *tanh_cell, const real *cell_in, int n, int hidden),
                  (dgates, dcell, dh, gates, tanh_cell, cell_in, n, hidden))

/* ---- the backward-in-time LSTM over all steps --------------------------------------------- */

/* Zeroes the rows of carry [n x H] whose episode ended at step t: the state they would feed to
 * step t+1 was reset, so no gradient flows there. */
static void cut_at_episode_ends(real *carry, const uint8_t *done, int n, int hidden)
{
    for (int i = 0; i < n; i++)
        if (done[i])
            memset(carry + (size_t)i * hidden, 0, (size_t)hidden * sizeof(real));
}

/* The state entering step t: zero at the last step and where the episode ended at t (step t+1
 * then belongs to the next episode), else the output of step t+1. */
static void lstm_entering_state(RuleWork *w, int t)
{
    int n = w->n, hidden = w->hidden;
    size_t block = (size_t)n * hidden, r0 = (size_t)t * n;
    real *h_in = w->h_in + r0 * hidden, *cell_in = w->cell_in + r0 * hidden;
    if (t == w->t_len - 1) {
        memset(h_in, 0, block * sizeof(real));
        memset(cell_in, 0, block * sizeof(real));
        return;
    }
    memcpy(h_in, w->h + (r0 + n) * hidden, block * sizeof(real));
    memcpy(cell_in, w->cell + (r0 + n) * hidden, block * sizeof(real));
    cut_at_episode_ends(h_in, w->done + r0, n, hidden);
    cut_at_episode_ends(cell_in, w->done + r0, n, hidden);
}

static void lstm_forward(RuleWork *w, const real *wx, const real *wh, const real *b)
{
    int n = w->n, hidden = w->hidden, gates_width = 4 * w->hidden;
    int rows = n * w->t_len;
    linear_forward(w->gates, w->x, wx, b, rows, w->x_dim, gates_width);
    for (int t = w->t_len - 1; t >= 0; t--) {
        size_t r0 = (size_t)t * n;
        real *gates = w->gates + r0 * gates_width;
        lstm_entering_state(w, t);
        if (t < w->t_len - 1)
            matmul(gates, w->h_in + r0 * hidden, wh, n, gates_width, hidden, 0, 0, 1);
        VEC_CALL(lstm_cell_forward, (gates, w->cell + r0 * hidden, w->tanh_cell + r0 * hidden,
                                     w->h + r0 * hidden, w->cell_in + r0 * hidden, n, hidden));
    }
}

/* BPTT: w->dh holds the heads' gradient into every h_t (it is modified). Accumulates dwx, dwh, db
 * and writes w->dx = ∂/∂x_t. Steps run in the order opposite to the forward pass (t = 0 up). */
static void lstm_backward(RuleWork *w, real *dwx, real *dwh, real *db, const real *wx,
                          const real *wh)
{
    int n = w->n, hidden = w->hidden, gates_width = 4 * w->hidden;
    int rows = n * w->t_len;
    size_t state = (size_t)n * hidden;
    memset(w->dh_carry, 0, state * sizeof(real));
    memset(w->dcell_carry, 0, state * sizeof(real));
    for (int t = 0; t < w->t_len; t++) {
        size_t r0 = (size_t)t * n;
        real *dh = w->dh + r0 * hidden, *dgates = w->dgates + r0 * gates_width;
        for (size_t k = 0; k < state; k++)
            dh[k] += w->dh_carry[k];
        VEC_CALL(lstm_cell_backward, (dgates, w->dcell_carry, dh, w->gates + r0 * gates_width,
                                      w->tanh_cell + r0 * hidden, w->cell_in + r0 * hidden, n,
                                      hidden));
        if (t == w->t_len - 1)
            break;
        matmul(w->dh_carry, dgates, wh, n, hidden, gates_width, 0, 1, 0);
        cut_at_episode_ends(w->dh_carry, w->done + r0, n, hidden);
        cut_at_episode_ends(w->dcell_carry, w->done + r0, n, hidden);
    }
    matmul(dwx, w->x, w->dgates, w->x_dim, gates_width, rows, 1, 0, 1);
    matmul(dwh, w->h_in, w->dgates, hidden, gates_width, rows, 1, 0, 1);
    add_column_sums(db, w->dgates, rows, gates_width);
    matmul(w->dx, w->dgates, wx, rows, w->x_dim, gates_width, 0, 1, 0);
}

/* ---- heads: π̂ = h·w + b, ŷ = softmax(h W + b) ------------------------------------------- */

/* Row-wise softmax of logits [rows x dim] held in probs (overwritten), with log-probabilities.
 * The exponentials run over the whole block at once (see vecmath.h). */
static void softmax_forward(real *probs, real *log_probs, int rows, int dim)
{
    size_t count = (size_t)rows * dim;
    for (int r = 0; r < rows; r++) {
        real *p = probs + (size_t)r * dim, *lp = log_probs + (size_t)r * dim;
        real max = p[0];
        for (int j = 1; j < dim; j++)
            max = p[j] > max ? p[j] : max;
        for (int j = 0; j < dim; j++)
            lp[j] = p[j] - max;
    }
    vec_exp(probs, log_probs, count);
    for (int r = 0; r < rows; r++) {
        real *p = probs + (size_t)r * dim, *lp = log_probs + (size_t)r * dim;
        real sum = 0;
        for (int j = 0; j < dim; j++)
            sum += p[j];
        real log_sum = real_log(sum);
        for (int j = 0; j < dim; j++)
            lp[j] -= log_sum;
    }
    vec_exp(probs, log_probs, count);
}

/* dlogits [rows x dim] = g - p Σ g, where g = dlog_p is the gradient wrt log p. */
static void softmax_backward(real *dlogits, const real *dlog_p, const real *probs, int rows,
                             int dim)
{
    for (int r = 0; r < rows; r++) {
        const real *p = probs + (size_t)r * dim, *g = dlog_p + (size_t)r * dim;
        real *dl = dlogits + (size_t)r * dim;
        real sum = 0;
        for (int j = 0; j < dim; j++)
            sum += g[j];
        for (int j = 0; j < dim; j++)
            dl[j] = g[j] - p[j] * sum;
    }
}

/* π̂ always; ŷ (softmax, with log ŷ; or unconstrained when y_raw) unless the rule is LPG-V. */
static void heads_forward(real *pi_hat, real *y_hat, real *log_y_hat, const real *h,
                          const real *pi_w, const real *pi_b, const real *y_w, const real *y_b,
                          int rows, int hidden, const RuleLayout *layout)
{
    for (int r = 0; r < rows; r++)
        pi_hat[r] = pi_b[0];
    real_gemv(CblasRowMajor, CblasNoTrans, rows, hidden, (real)1, h, hidden, pi_w, 1, (real)1,
              pi_hat, 1);
    if (layout->method == RULE_LPG_V)
        return;
    linear_forward(y_hat, h, y_w, y_b, rows, hidden, RULE_Y_DIM);
    if (!layout->y_raw)
        softmax_forward(y_hat, log_y_hat, rows, RULE_Y_DIM);
}

/* Given dpi_hat [rows] and dlogits [rows x 30] (either may be NULL), accumulates the head
 * gradients and writes dh [rows x H], the gradient into h. */
static void heads_backward(real *dpi_w, real *dpi_b, real *dy_w, real *dy_b, real *dh,
                           const real *dpi_hat, const real *dlogits, const real *h,
                           const real *pi_w, const real *y_w, int rows, int hidden)
{
    if (dlogits) {
        matmul(dy_w, h, dlogits, hidden, RULE_Y_DIM, rows, 1, 0, 1);
        add_column_sums(dy_b, dlogits, rows, RULE_Y_DIM);
        matmul(dh, dlogits, y_w, rows, hidden, RULE_Y_DIM, 0, 1, 0);
    } else {
        memset(dh, 0, (size_t)rows * hidden * sizeof(real));
    }
    if (!dpi_hat)
        return;
    real_gemv(CblasRowMajor, CblasTrans, rows, hidden, (real)1, h, hidden, dpi_hat, 1, (real)1,
              dpi_w, 1);
    for (int r = 0; r < rows; r++) {
        real *dh_row = dh + (size_t)r * hidden;
        dpi_b[0] += dpi_hat[r];
        for (int j = 0; j < hidden; j++)
            dh_row[j] += dpi_hat[r] * pi_w[j];
    }
}

/* ---- the rule ---------------------------------------------------------------------------- */

const char *const rule_method_names[] = {"lpg", "lpg_v", NULL};

const char *const rule_group_names[RULE_GROUPS] = {
    [RULE_GROUP_PHI_W1] = "phi_w1", [RULE_GROUP_PHI_B1] = "phi_b1", [RULE_GROUP_PHI_W2] = "phi_w2",
    [RULE_GROUP_PHI_B2] = "phi_b2", [RULE_GROUP_LSTM_WX] = "lstm_wx",
    [RULE_GROUP_LSTM_WH] = "lstm_wh", [RULE_GROUP_LSTM_B] = "lstm_b", [RULE_GROUP_PI_W] = "pi_w",
    [RULE_GROUP_PI_B] = "pi_b", [RULE_GROUP_Y_W] = "y_w", [RULE_GROUP_Y_B] = "y_b",
};

void rule_layout(RuleLayout *layout, int hidden)
{
    rule_layout_lifetime(layout, hidden, 0);
}

void rule_layout_lifetime(RuleLayout *layout, int hidden, int lifetime_inputs)
{
    size_t gates_width = 4 * (size_t)hidden, h = (size_t)hidden;
    memset(layout, 0, sizeof *layout); /* kind LPG, no value settings */
    layout->hidden = hidden;
    layout->lifetime_inputs = lifetime_inputs ? 1 : 0;
    layout->x_dim = lifetime_inputs ? RULE_X_MAX : RULE_X_DIM;
    const size_t size[RULE_GROUPS] = {
        [RULE_GROUP_PHI_W1] = RULE_Y_DIM * RULE_PHI_HIDDEN, [RULE_GROUP_PHI_B1] = RULE_PHI_HIDDEN,
        [RULE_GROUP_PHI_W2] = RULE_PHI_HIDDEN,              [RULE_GROUP_PHI_B2] = 1,
        [RULE_GROUP_LSTM_WX] = (size_t)layout->x_dim * gates_width,
        [RULE_GROUP_LSTM_WH] = h * gates_width,             [RULE_GROUP_LSTM_B] = gates_width,
        [RULE_GROUP_PI_W] = h,                              [RULE_GROUP_PI_B] = 1,
        [RULE_GROUP_Y_W] = h * RULE_Y_DIM,                  [RULE_GROUP_Y_B] = RULE_Y_DIM,
    };
    for (int g = 0; g < RULE_GROUPS; g++)
        layout->at[g + 1] = layout->at[g] + size[g];
}

const char *rule_kind_name(const RuleLayout *layout)
{
    if (layout->method == RULE_LPG_V)
        return "lpg_v";
    return layout->y_raw ? "lpg_raw_y" : "lpg";
}

static void fill_normal(real *out, size_t count, double scale, Rng *rng)
{
    for (size_t i = 0; i < count; i++)
        out[i] = (real)(scale * rng_normal(rng));
}

void rule_init(real *eta, const RuleLayout *layout, Rng *rng)
{
    int hidden = layout->hidden;
    size_t gates_width = 4 * (size_t)hidden;
    double lstm_scale = 1.0 / sqrt((double)(layout->x_dim + hidden));
    memset(eta, 0, layout->count * sizeof(real));
    fill_normal(eta + layout->phi_w1, RULE_Y_DIM * RULE_PHI_HIDDEN, 1.0 / sqrt(RULE_Y_DIM), rng);
    fill_normal(eta + layout->phi_w2, RULE_PHI_HIDDEN, 1.0 / sqrt(RULE_PHI_HIDDEN), rng);
    fill_normal(eta + layout->lstm_wx, (size_t)layout->x_dim * gates_width, lstm_scale, rng);
    fill_normal(eta + layout->lstm_wh, (size_t)hidden * gates_width, lstm_scale, rng);
    for (int j = 0; j < hidden; j++)
        eta[layout->lstm_b + (size_t)hidden + j] = 1; /* forget gate: remember by default */
    fill_normal(eta + layout->pi_w, (size_t)hidden, 1.0 / sqrt(hidden), rng);
    fill_normal(eta + layout->y_w, (size_t)hidden * RULE_Y_DIM, 1.0 / sqrt(hidden), rng);
}

#define RULE_WORK_BUFFERS 20

/* The workspace's buffers: the outputs, the forward activations, the backward scratch. */
static void rule_work_table(BufferSpec table[RULE_WORK_BUFFERS], RuleWork *w, size_t rows,
                            size_t max_n)
{
    size_t hidden = (size_t)w->hidden, x_dim = (size_t)w->x_dim, state = rows * hidden;
    BufferSpec t[RULE_WORK_BUFFERS] = {
        BUFFER(w->pi_hat, rows),
        BUFFER(w->y_hat, rows * RULE_Y_DIM),        BUFFER(w->log_y_hat, rows * RULE_Y_DIM),
        BUFFER(w->phi_hidden, 2 * rows * RULE_PHI_HIDDEN), BUFFER(w->phi_out, 2 * rows),
        BUFFER(w->x, rows * x_dim),                 BUFFER(w->gates, rows * 4 * hidden),
        BUFFER(w->cell, state),                     BUFFER(w->tanh_cell, state),
        BUFFER(w->h, state),                        BUFFER(w->h_in, state),
        BUFFER(w->cell_in, state),                  BUFFER(w->dlogits, rows * RULE_Y_DIM),
        BUFFER(w->dh, state),                       BUFFER(w->dgates, rows * 4 * hidden),
        BUFFER(w->dh_carry, max_n * hidden),        BUFFER(w->dcell_carry, max_n * hidden),
        BUFFER(w->dx, rows * x_dim),                BUFFER(w->dphi, 2 * rows),
        BUFFER(w->dphi_hidden, rows * RULE_PHI_HIDDEN),
    };
    memcpy(table, t, sizeof t);
}

size_t rule_work_bytes(const RuleLayout *layout, int max_n, int max_t)
{
    RuleWork w = {.hidden = layout->hidden, .x_dim = layout->x_dim};
    BufferSpec table[RULE_WORK_BUFFERS];
    rule_work_table(table, &w, (size_t)max_n * max_t, (size_t)max_n);
    return sizeof w + buffers_size(table, RULE_WORK_BUFFERS);
}

RuleWork *rule_work_create(const RuleLayout *layout, int max_n, int max_t)
{
    RuleWork *w = lpg_calloc(1, sizeof *w, "rule workspace");
    if (!w)
        return NULL;
    w->hidden = layout->hidden;
    w->x_dim = layout->x_dim;
    w->max_n = max_n;
    w->max_t = max_t;
    BufferSpec table[RULE_WORK_BUFFERS];
    rule_work_table(table, w, (size_t)max_n * max_t, (size_t)max_n);
    w->mem = buffers_alloc(table, RULE_WORK_BUFFERS, "rule activations");
    if (!w->mem) {
        free(w);
        return NULL;
    }
    return w;
}

void rule_work_free(RuleWork *work)
{
    if (!work)
        return;
    free(work->mem);
    free(work);
}

void rule_input_set_lifetime(RuleInput *in, int64_t updates, int64_t length)
{
    double progress = length > 0 ? (double)updates / (double)length : 0;
    in->lifetime[0] = (real)(progress < 0 ? 0 : progress > 1 ? 1 : progress);
    in->lifetime[1] = (real)(length > 1 ? log((double)length) / log(RULE_LOG_LENGTH_MAX) : 0);
}

/* x_t = [r, d, γ, π(a|s), φ(y), φ(y')] with φ(y') zeroed where the episode ended at t, then
 * n/N and log N for a lifetime-aware rule. */
static void assemble_inputs(RuleWork *w, const RuleInput *in)
{
    int n = w->n, rows = n * w->t_len;
    const real *phi_y = w->phi_out, *phi_y_next = w->phi_out + rows;
    for (int r = 0; r < rows; r++) {
        real *x = w->x + (size_t)r * w->x_dim;
        if (w->x_dim == RULE_X_MAX) {
            x[RULE_X_PROGRESS] = in->lifetime[0];
            x[RULE_X_LOG_LENGTH] = in->lifetime[1];
        }
        x[RULE_X_REWARD] = in->reward[r];
        x[RULE_X_DONE] = in->done[r] ? 1 : 0;
        x[RULE_X_GAMMA] = in->gamma[r % n];
        x[RULE_X_PI_TAKEN] = in->pi_taken[r];
        x[RULE_X_PHI_Y] = phi_y[r];
        x[RULE_X_PHI_Y_NEXT] = in->done[r] ? 0 : phi_y_next[r];
    }
}

/* φ(y) and φ(y') into work->phi_out, or for LPG-V the values v(s_t), v(s_{t+1}) there. */
static void embed_inputs(RuleWork *work, const real *eta, const RuleLayout *layout,
                         const RuleInput *in, int rows)
{
    if (layout->method == RULE_LPG_V) {
        memcpy(work->phi_out, in->value, (size_t)rows * sizeof(real));
        memcpy(work->phi_out + rows, in->value_next, (size_t)rows * sizeof(real));
        return;
    }
    real *hidden_y = work->phi_hidden;
    real *hidden_next = work->phi_hidden + (size_t)rows * RULE_PHI_HIDDEN;
    const real *e = eta;
    phi_forward(work->phi_out, hidden_y, in->y, e + layout->phi_w1, e + layout->phi_b1,
                e + layout->phi_w2, e + layout->phi_b2, rows);
    phi_forward(work->phi_out + rows, hidden_next, in->y_next, e + layout->phi_w1,
                e + layout->phi_b1, e + layout->phi_w2, e + layout->phi_b2, rows);
}

void rule_forward(RuleWork *work, const real *eta, const RuleLayout *layout, const RuleInput *in,
                  int n, int t_len)
{
    assert(work->hidden == layout->hidden && work->x_dim == layout->x_dim && n <= work->max_n &&
           t_len <= work->max_t);
    work->n = n;
    work->t_len = t_len;
    work->method = layout->method;
    work->y_raw = layout->y_raw;
    work->done = in->done;
    work->y = in->y;
    work->y_next = in->y_next;
    int rows = n * t_len;
    const real *e = eta;
    embed_inputs(work, eta, layout, in, rows);
    assemble_inputs(work, in);
    lstm_forward(work, e + layout->lstm_wx, e + layout->lstm_wh, e + layout->lstm_b);
    heads_forward(work->pi_hat, work->y_hat, work->log_y_hat, work->h, e + layout->pi_w,
                  e + layout->pi_b, e + layout->y_w, e + layout->y_b, rows, layout->hidden,
                  layout);
}

/* d_y [rows x 30] = dhidden [rows x 16] W1ᵀ: the gradient of φ wrt its input y, given the
 * gradient dhidden at φ's tanh pre-activations that phi_backward just left. */
static void phi_input_backward(real *d_y, const real *dhidden, const real *w1, int rows)
{
    matmul(d_y, dhidden, w1, rows, RULE_Y_DIM, RULE_PHI_HIDDEN, 0, 1, 0);
}

/* The gradient into the LSTM's inputs φ(y), φ(y') (w->dx) through φ into its weights, and
 * into y and y' when d_in is not NULL. */
static void phi_backward_both(RuleWork *w, real *d, const real *e, const RuleLayout *layout,
                              const RuleInputGrad *d_in)
{
    int rows = w->n * w->t_len;
    real *dphi_y = w->dphi, *dphi_next = w->dphi + rows;
    for (int r = 0; r < rows; r++) {
        dphi_y[r] = w->dx[(size_t)r * w->x_dim + RULE_X_PHI_Y];
        dphi_next[r] = w->done[r] ? 0 : w->dx[(size_t)r * w->x_dim + RULE_X_PHI_Y_NEXT];
    }
    const real *hidden_next = w->phi_hidden + (size_t)rows * RULE_PHI_HIDDEN;
    phi_backward(d + layout->phi_w1, d + layout->phi_b1, d + layout->phi_w2, d + layout->phi_b2,
                 w->dphi_hidden, dphi_y, w->phi_hidden, w->y, e + layout->phi_w2, rows);
    if (d_in) /* dphi_hidden is reused by the next call */
        phi_input_backward(d_in->y, w->dphi_hidden, e + layout->phi_w1, rows);
    phi_backward(d + layout->phi_w1, d + layout->phi_b1, d + layout->phi_w2, d + layout->phi_b2,
                 w->dphi_hidden, dphi_next, hidden_next, w->y_next, e + layout->phi_w2, rows);
    /* dphi_next is already zero where φ(y') was zeroed, so d_in->y_next is zero there too. */
    if (d_in)
        phi_input_backward(d_in->y_next, w->dphi_hidden, e + layout->phi_w1, rows);
}

void rule_backward(RuleWork *w, real *d_eta, const real *eta, const RuleLayout *layout,
                   const real *dpi_hat, const real *dlog_y_hat, const RuleInputGrad *d_in)
{
    int n = w->n, rows = n * w->t_len;
    const real *e = eta;
    real *d = d_eta;
    const real *dlogits = NULL; /* gradient into the ŷ head's logits */
    if (dlog_y_hat && layout->method != RULE_LPG_V) {
        if (layout->y_raw) {
            dlogits = dlog_y_hat;
        } else {
            softmax_backward(w->dlogits, dlog_y_hat, w->y_hat, rows, RULE_Y_DIM);
            dlogits = w->dlogits;
        }
    }
    heads_backward(d + layout->pi_w, d + layout->pi_b, d + layout->y_w, d + layout->y_b, w->dh,
                   dpi_hat, dlogits, w->h, e + layout->pi_w, e + layout->y_w, rows,
                   layout->hidden);
    lstm_backward(w, d + layout->lstm_wx, d + layout->lstm_wh, d + layout->lstm_b,
                  e + layout->lstm_wx, e + layout->lstm_wh);
    if (layout->method != RULE_LPG_V) /* LPG-V: the value slots hold data, no φ */
        phi_backward_both(w, d, e, layout, d_in);
    if (!d_in)
        return;
    for (int r = 0; r < rows; r++)
        d_in->pi_taken[r] = w->dx[(size_t)r * w->x_dim + RULE_X_PI_TAKEN];
}

double rule_l2_penalty(const RuleLayout *layout, const real *pi_hat, const real *y_hat, int rows,
                       double beta_pi, double beta_y)
{
    double sum_pi = 0, sum_y = 0;
    for (int r = 0; r < rows; r++)
        sum_pi += (double)pi_hat[r] * pi_hat[r];
    if (layout->method != RULE_LPG_V)
        for (size_t i = 0; i < (size_t)rows * RULE_Y_DIM; i++)
            sum_y += (double)y_hat[i] * y_hat[i];
    return beta_pi * sum_pi + beta_y * sum_y;
}

void rule_l2_backward(const RuleLayout *layout, real *dpi_hat, real *dlog_y_hat,
                      const real *pi_hat, const real *y_hat, int rows, double beta_pi,
                      double beta_y, double scale)
{
    real k_pi = (real)(2 * beta_pi * scale), k_y = (real)(2 * beta_y * scale);
    for (int r = 0; r < rows; r++)
        dpi_hat[r] += k_pi * pi_hat[r];
    if (layout->method == RULE_LPG_V)
        return;
    /* softmax ŷ: ∂/∂log ŷ = ŷ ⊙ ∂/∂ŷ; unconstrained ŷ: ∂/∂ŷ itself */
    for (size_t i = 0; i < (size_t)rows * RULE_Y_DIM; i++)
        dlog_y_hat[i] += layout->y_raw ? k_y * y_hat[i] : y_hat[i] * (k_y * y_hat[i]);
}
