/* agent.c: the agent network θ, tabular, MLP or conv, with its forward pass, backward pass,
 * forward tangent (JVP) and backward tangent (Pearlmutter's R-operator of the backward pass).
 * Row-major everywhere; each layer is one gemm per pass for the whole batch.
 *
 * MLP notation: a_0 = x, z_l = a_l W_l + b_l, a_{l+1} = relu(z_l), out = z_{L-1}. Along a
 * direction v (vW_l, vb_l):
 *   forward tangent   δz_l = δa_l W_l + a_l vW_l + vb_l,  δa_{l+1} = [z_l > 0] δz_l,  δa_0 = 0
 *   backward          dW_l += a_lᵀ dz_l,  db_l += Σ_b dz_l,  dz_{l-1} = [z_{l-1} > 0] (dz_l W_lᵀ)
 *   backward tangent  R(dW_l) = δa_lᵀ dz_l + a_lᵀ R(dz_l),  R(db_l) = Σ_b R(dz_l),
 *                     R(dz_{l-1}) = [z_{l-1} > 0] (R(dz_l) W_lᵀ + dz_l vW_lᵀ)
 * (relu's second derivative is zero almost everywhere, so the mask carries no tangent).
 *
 * A conv agent is the same chain with a_0 = the im2col patches of x: layer 0 runs on
 * batch * positions rows of in_planes * 9 patch values, and its [batch * positions x filters]
 * output, read as [batch x positions * filters], is layer 1's input. The patches depend on x
 * only, so they carry no tangent (δa_0 = 0) and need no gradient (x is not a parameter). */
#include "agent.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "buffers.h"
#include "linalg.h"
#include "softmax.h"
#include "util.h"

/* ---- setup ---------------------------------------------------------------------------- */

static int check_spec(const AgentSpec *spec)
{
    /* num_actions == 0 is a value-only network (the meta-objective's critic, critic.h). */
    if (spec->num_actions < 0 || (spec->num_actions == 0 && !spec->has_value))
        return lpg_error("agent: num_actions must be >= 1, or 0 with a value output (got %d)",
                         spec->num_actions);
    if (spec->num_y < 0)
        return lpg_error("agent: num_y must be >= 0 (got %d)", spec->num_y);
    if (spec->has_value != 0 && spec->has_value != 1)
        return lpg_error("agent: has_value must be 0 or 1 (got %d)", spec->has_value);
    if (spec->kind == AGENT_TABULAR) {
        if (spec->num_states < 1)
            return lpg_error("agent: a tabular agent needs num_states >= 1 (got %d)",
                             spec->num_states);
        if (spec->tabular_init_std < 0)
            return lpg_error("agent: tabular_init_std must be >= 0");
        return 0;
    }
    if (spec->kind != AGENT_MLP && spec->kind != AGENT_CONV)
        return lpg_error("agent: unknown kind %d", (int)spec->kind);
    if (spec->obs_dim < 1)
        return lpg_error("agent: an MLP or conv agent needs obs_dim >= 1 (got %d)", spec->obs_dim);
    if (spec->num_hidden < 0 || spec->num_hidden > AGENT_MAX_HIDDEN)
        return lpg_error("agent: %d hidden layers (at most %d)", spec->num_hidden,
                         AGENT_MAX_HIDDEN);
    for (int l = 0; l < spec->num_hidden; l++)
        if (spec->hidden[l] < 1)
            return lpg_error("agent: hidden layer %d has width %d", l, spec->hidden[l]);
    if (spec->kind == AGENT_CONV) {
        if (spec->conv_filters < 1)
            return lpg_error("agent: a conv agent needs conv_filters >= 1 (got %d)",
                             spec->conv_filters);
        if (spec->in_planes < 1 || spec->in_height < AGENT_CONV_KERNEL ||
            spec->in_width < AGENT_CONV_KERNEL ||
            (long long)spec->in_planes * spec->in_height * spec->in_width != spec->obs_dim)
            return lpg_error("agent: a conv agent needs an image of planes x height x width = "
                             "obs_dim with sides >= %d (got %d x %d x %d, obs_dim %d)",
                             AGENT_CONV_KERNEL, spec->in_planes, spec->in_height, spec->in_width,
                             spec->obs_dim);
    }
    return 0;
}

int agent_check_hidden(int count, const char *where)
{
    if (count > AGENT_MAX_HIDDEN)
        return lpg_error("%s: key 'mlp_hidden': at most %d hidden layers", where, AGENT_MAX_HIDDEN);
    return 0;
}

const char *const agent_choice_names[] = {"mlp", "conv", NULL};

int agent_choice_filters(int choice)
{
    return choice == AGENT_CHOICE_CONV ? AGENT_CONV_FILTERS : 0;
}

int agent_check_kind(int conv_filters, const EnvSpec *envs, int count, const char *where)
{
    if (conv_filters <= 0)
        return 0;
    for (int i = 0; i < count; i++)
        if (envs[i].obs_planes > 0)
            return 0;
    if (count == 1)
        return lpg_error("%s: key 'agent': \"conv\" needs an environment whose observation is an "
                         "image (MinAtar, random grids), and %s is not one", where, envs[0].path);
    return lpg_error("%s: key 'agent': \"conv\" needs an environment whose observation is an "
                     "image (MinAtar, random grids), and none of the %d is one", where, count);
}

int agent_spec_for_env(AgentSpec *spec, const EnvSpec *env, int conv_filters,
                       const int *hidden, int num_hidden, int num_y, int has_value)
{
    memset(spec, 0, sizeof *spec);
    if (agent_check_hidden(num_hidden, "agent"))
        return -1;
    spec->kind = env->num_states > 0 ? AGENT_TABULAR : AGENT_MLP;
    if (spec->kind == AGENT_MLP && conv_filters > 0 && env->obs_planes > 0) {
        spec->kind = AGENT_CONV;
        spec->conv_filters = conv_filters;
        spec->in_planes = env->obs_planes;
        spec->in_height = env->obs_height;
        spec->in_width = env->obs_width;
    }
    spec->num_states = env->num_states;
    spec->obs_dim = env->obs_dim;
    spec->num_hidden = spec->kind != AGENT_TABULAR ? num_hidden : 0;
    for (int i = 0; i < spec->num_hidden; i++)
        spec->hidden[i] = hidden[i];
    spec->num_actions = env->num_actions;
    spec->num_y = num_y;
    spec->has_value = has_value;
    return 0;
}

/* Appends a linear layer of rows x [in -> out] per observation to agent's layout. */
static void add_layer(Agent *agent, size_t *offset, int rows, int in, int out)
{
    int l = agent->num_layers++;
    agent->layer_rows[l] = rows;
    agent->layer_in[l] = in;
    agent->layer_out[l] = out;
    agent->weight[l] = *offset;
    *offset += (size_t)in * (size_t)out;
    agent->bias[l] = *offset;
    *offset += (size_t)out;
}

int agent_setup(Agent *agent, const AgentSpec *spec)
{
    memset(agent, 0, sizeof *agent);
    if (check_spec(spec) != 0)
        return -1;
    agent->spec = *spec;
    agent->num_actions = spec->num_actions;
    agent->num_y = spec->num_y;
    agent->has_value = spec->has_value;
    agent->y_offset = spec->num_actions;
    agent->value_offset = spec->num_actions + spec->num_y;
    agent->num_outputs = agent->value_offset + spec->has_value;
    if (spec->kind == AGENT_TABULAR) {
        agent->num_params = (size_t)spec->num_states * (size_t)agent->num_outputs;
        return 0;
    }
    size_t offset = 0;
    int width = spec->obs_dim; /* of the next layer's input, per observation */
    if (spec->kind == AGENT_CONV) {
        agent->out_height = spec->in_height - AGENT_CONV_KERNEL + 1;
        agent->out_width = spec->in_width - AGENT_CONV_KERNEL + 1;
        int positions = agent->out_height * agent->out_width;
        add_layer(agent, &offset, positions,
                  spec->in_planes * AGENT_CONV_KERNEL * AGENT_CONV_KERNEL, spec->conv_filters);
        width = positions * spec->conv_filters;
    }
    for (int l = 0; l < spec->num_hidden; l++) {
        add_layer(agent, &offset, 1, width, spec->hidden[l]);
        width = spec->hidden[l];
    }
    add_layer(agent, &offset, 1, width, agent->num_outputs);
    agent->num_params = offset;
    return 0;
}

void agent_init_params(const Agent *agent, real *theta, Rng *rng)
{
    memset(theta, 0, agent->num_params * sizeof(real));
    if (agent->spec.kind == AGENT_TABULAR) {
        double std = agent->spec.tabular_init_std;
        if (std > 0)
            for (size_t i = 0; i < agent->num_params; i++)
                theta[i] = (real)(std * rng_normal(rng));
        return;
    }
    for (int l = 0; l < agent->num_layers; l++) {
        int in = agent->layer_in[l], out = agent->layer_out[l];
        int is_output = l == agent->num_layers - 1;
        double std = (is_output ? 0.1 : sqrt(2.0)) / sqrt((double)in);
        real *w = theta + agent->weight[l];
        for (size_t i = 0; i < (size_t)in * (size_t)out; i++)
            w[i] = (real)(std * rng_normal(rng));
    }
}

#define AGENT_WORK_BUFFERS (4 * AGENT_MAX_LAYERS + 11)

/* The buffer table of an agent's scratch for batches of max_batch (pointers into work); returns
 * its length. */
static size_t agent_work_table(BufferSpec table[AGENT_WORK_BUFFERS], AgentWork *work,
                               const Agent *agent, int max_batch)
{
    size_t per_output = (size_t)max_batch * (size_t)agent->num_outputs;
    size_t count = 0;
    for (int l = 0; l + 1 < agent->num_layers; l++) {
        size_t n = (size_t)max_batch * (size_t)agent->layer_rows[l] * (size_t)agent->layer_out[l];
        table[count++] = (BufferSpec)BUFFER(work->act[l], n);
        table[count++] = (BufferSpec)BUFFER(work->tangent[l], n);
        table[count++] = (BufferSpec)BUFFER(work->grad[l], n);
        table[count++] = (BufferSpec)BUFFER(work->grad_tangent[l], n);
    }
    table[count++] = (BufferSpec)BUFFER(work->out, per_output);
    table[count++] = (BufferSpec)BUFFER(work->dout, per_output);
    table[count++] = (BufferSpec)BUFFER(work->out_tangent, per_output);
    table[count++] = (BufferSpec)BUFFER(work->dout_tangent, per_output);
    table[count++] = (BufferSpec)BUFFER(work->pi, (size_t)max_batch * agent->num_actions);
    table[count++] = (BufferSpec)BUFFER(work->y, (size_t)max_batch * agent->num_y);
    table[count++] = (BufferSpec)BUFFER(work->lse_pi, max_batch);
    table[count++] = (BufferSpec)BUFFER(work->lse_y, max_batch);
    size_t states = agent->spec.kind == AGENT_TABULAR ? (size_t)agent->spec.num_states : 0;
    table[count++] = (BufferSpec)BUFFER(work->visits, states);
    table[count++] = (BufferSpec)BUFFER(work->touched, max_batch);
    size_t patches = agent->spec.kind == AGENT_CONV
                         ? (size_t)max_batch * (size_t)agent->layer_rows[0] * (size_t)agent->layer_in[0]
                         : 0;
    table[count++] = (BufferSpec)BUFFER(work->patches, patches);
    return count;
}

size_t agent_work_bytes(const Agent *agent, int max_batch)
{
    AgentWork work;
    BufferSpec table[AGENT_WORK_BUFFERS];
    return buffers_size(table, agent_work_table(table, &work, agent, max_batch));
}

int agent_work_init(AgentWork *work, const Agent *agent, int max_batch)
{
    memset(work, 0, sizeof *work);
    if (max_batch < 1)
        return lpg_error("agent: max_batch must be >= 1 (got %d)", max_batch);
    BufferSpec table[AGENT_WORK_BUFFERS];
    size_t count = agent_work_table(table, work, agent, max_batch);
    work->mem = buffers_alloc(table, count, "agent workspace");
    if (!work->mem)
        return -1;
    work->max_batch = max_batch;
    return 0;
}

void agent_per_state_mean(const Agent *agent, AgentWork *work, AgentObs obs, int batch, real *vec)
{
    if (agent->spec.kind != AGENT_TABULAR)
        return;
    const int32_t *s = obs.index;
    for (int b = 0; b < batch; b++)
        work->visits[s[b]] = 0;
    for (int b = 0; b < batch; b++)
        work->visits[s[b]]++;
    const int outs = agent->num_outputs;
    for (int b = 0; b < batch; b++) {
        int32_t v = work->visits[s[b]];
        if (v <= 0)
            continue; /* row already scaled */
        real factor = (real)batch / (real)v;
        real *row = vec + (size_t)s[b] * (size_t)outs;
        for (int j = 0; j < outs; j++)
            row[j] *= factor;
        work->visits[s[b]] = -1;
    }
}

ParamRows agent_touched(const Agent *agent, AgentWork *work, AgentObs obs, int batch)
{
    assert(batch >= 1 && batch <= work->max_batch);
    if (agent->spec.kind != AGENT_TABULAR) {
        work->touched[0] = 0;
        return (ParamRows){work->touched, 1, agent->num_params};
    }
    const int32_t *s = obs.index;
    int count = 0;
    for (int b = 0; b < batch; b++)
        work->visits[s[b]] = 0;
    for (int b = 0; b < batch; b++)
        if (work->visits[s[b]] == 0) {
            work->visits[s[b]] = 1;
            work->touched[count++] = s[b];
        }
    return (ParamRows){work->touched, count, (size_t)agent->num_outputs};
}

void param_rows_zero(const ParamRows *rows, real *v)
{
    for (int r = 0; r < rows->count; r++)
        memset(v + (size_t)rows->row[r] * rows->len, 0, rows->len * sizeof(real));
}

void param_rows_copy(const ParamRows *rows, real *dst, const real *src)
{
    for (int r = 0; r < rows->count; r++) {
        size_t at = (size_t)rows->row[r] * rows->len;
        memcpy(dst + at, src + at, rows->len * sizeof(real));
    }
}

void param_rows_axpy(const ParamRows *rows, real *y, real a, const real *x)
{
    for (int r = 0; r < rows->count; r++) {
        size_t at = (size_t)rows->row[r] * rows->len;
        for (size_t j = 0; j < rows->len; j++)
            y[at + j] += a * x[at + j];
    }
}

void agent_work_free(AgentWork *work)
{
    free(work->mem);
    memset(work, 0, sizeof *work);
}

AgentObs agent_obs_offset(const Agent *agent, AgentObs obs, int first)
{
    AgentObs sliced = obs;
    if (agent->spec.kind == AGENT_TABULAR)
        sliced.index = obs.index + first;
    else
        sliced.x = obs.x + (size_t)first * (size_t)agent->spec.obs_dim;
    return sliced;
}

/* ---- tabular -------------------------------------------------------------------------- */

/* rows[b] = table[index[b]], rows of width n. */
static void gather_rows(real *rows, const real *table, const int32_t *index, int batch, int n)
{
    for (int b = 0; b < batch; b++)
        memcpy(rows + (size_t)b * n, table + (size_t)index[b] * n, (size_t)n * sizeof(real));
}

/* table[index[b]] += rows[b], rows of width n (repeated states accumulate). */
static void scatter_add_rows(real *table, const real *rows, const int32_t *index, int batch,
                             int n)
{
    for (int b = 0; b < batch; b++) {
        real *dst = table + (size_t)index[b] * n;
        const real *src = rows + (size_t)b * n;
        for (int j = 0; j < n; j++)
            dst[j] += src[j];
    }
}

/* ---- MLP building blocks -------------------------------------------------------------- */

/* din [batch x n_in] = beta * din + dz [batch x n_out] Wᵀ (W is [n_in x n_out]). */
static void matmul_transposed(real *din, const real *dz, const real *w, int batch, int n_in,
                              int n_out, real beta)
{
    matmul(din, dz, w, batch, n_in, n_out, 0, 1, beta);
}

/* dw [n_in x n_out] += inᵀ dz. */
static void weight_gradient_add(real *dw, const real *in, const real *dz, int batch, int n_in,
                                int n_out)
{
    matmul(dw, in, dz, n_in, n_out, batch, 1, 0, 1);
}

/* Both loops store every entry (a select, not a branch around a store), so they vectorise. */
static void relu_in_place(real *x, size_t count)
{
    for (size_t i = 0; i < count; i++)
        x[i] = x[i] < 0 ? 0 : x[i];
}

/* d[i] = 0 where the relu was off (act[i] == 0, i.e. its pre-activation was <= 0). */
static void relu_mask(real *d, const real *act, size_t count)
{
    for (size_t i = 0; i < count; i++)
        d[i] = act[i] > 0 ? d[i] : 0;
}

/* The input a_l of layer l: the observations (MLP) or their patches (conv) for l = 0, else the
 * previous layer's activations. */
static const real *layer_input(const Agent *agent, const AgentWork *work, AgentObs obs, int l)
{
    if (l > 0)
        return work->act[l - 1];
    return agent->spec.kind == AGENT_CONV ? work->patches : obs.x;
}

/* im2col: work->patches [batch * positions x in_planes * 9], row (b, oy, ox) holding the 3x3
 * patch of every plane at (oy, ox) of observation b, column (plane * 3 + dy) * 3 + dx. */
static void fill_patches(const Agent *agent, AgentWork *work, AgentObs obs, int batch)
{
    const AgentSpec *s = &agent->spec;
    const int k = AGENT_CONV_KERNEL, plane = s->in_height * s->in_width;
    real *row = work->patches;
    for (int b = 0; b < batch; b++) {
        const real *x = obs.x + (size_t)b * (size_t)s->obs_dim;
        for (int oy = 0; oy < agent->out_height; oy++)
            for (int ox = 0; ox < agent->out_width; ox++)
                for (int c = 0; c < s->in_planes; c++)
                    for (int dy = 0; dy < k; dy++) {
                        memcpy(row, x + (size_t)c * plane + (size_t)(oy + dy) * s->in_width + ox,
                               (size_t)k * sizeof(real));
                        row += k;
                    }
    }
}

/* ---- MLP and conv passes: layer l is one gemm over batch * layer_rows[l] rows --------- */

static void mlp_forward(const Agent *agent, AgentWork *work, const real *theta, AgentObs obs,
                        int batch, real *out)
{
    if (agent->spec.kind == AGENT_CONV)
        fill_patches(agent, work, obs, batch);
    int last = agent->num_layers - 1;
    for (int l = 0; l <= last; l++) {
        int rows = batch * agent->layer_rows[l], n_in = agent->layer_in[l];
        int n_out = agent->layer_out[l];
        real *z = l == last ? out : work->act[l];
        linear_forward(z, layer_input(agent, work, obs, l), theta + agent->weight[l],
                       theta + agent->bias[l], rows, n_in, n_out);
        if (l < last)
            relu_in_place(z, (size_t)rows * n_out);
    }
}

static void mlp_backward(const Agent *agent, AgentWork *work, const real *theta, AgentObs obs,
                         int batch, const real *dout, real *dtheta)
{
    const real *dz = dout;
    for (int l = agent->num_layers - 1; l >= 0; l--) {
        int rows = batch * agent->layer_rows[l], n_in = agent->layer_in[l];
        int n_out = agent->layer_out[l];
        weight_gradient_add(dtheta + agent->weight[l], layer_input(agent, work, obs, l), dz, rows,
                            n_in, n_out);
        add_column_sums(dtheta + agent->bias[l], dz, rows, n_out);
        if (l == 0)
            break;
        real *da = work->grad[l - 1];
        matmul_transposed(da, dz, theta + agent->weight[l], rows, n_in, n_out, 0);
        relu_mask(da, work->act[l - 1], (size_t)rows * n_in);
        dz = da;
    }
}

static void mlp_forward_tangent(const Agent *agent, AgentWork *work, const real *theta,
                                const real *v, AgentObs obs, int batch, real *out_tangent)
{
    int last = agent->num_layers - 1;
    for (int l = 0; l <= last; l++) {
        int rows = batch * agent->layer_rows[l], n_in = agent->layer_in[l];
        int n_out = agent->layer_out[l];
        real *dz = l == last ? out_tangent : work->tangent[l];
        linear_forward(dz, layer_input(agent, work, obs, l), v + agent->weight[l],
                       v + agent->bias[l], rows, n_in, n_out);
        if (l > 0)
            matmul(dz, work->tangent[l - 1], theta + agent->weight[l], rows, n_out, n_in, 0, 0, 1);
        if (l < last)
            relu_mask(dz, work->act[l], (size_t)rows * n_out);
    }
}

static void mlp_backward_tangent(const Agent *agent, AgentWork *work, const real *theta,
                                 const real *v, AgentObs obs, int batch, const real *dout,
                                 const real *dout_tangent, real *hv)
{
    const real *dz = dout, *dz_tangent = dout_tangent;
    for (int l = agent->num_layers - 1; l >= 0; l--) {
        int rows = batch * agent->layer_rows[l], n_in = agent->layer_in[l];
        int n_out = agent->layer_out[l];
        real *hv_w = hv + agent->weight[l];
        weight_gradient_add(hv_w, layer_input(agent, work, obs, l), dz_tangent, rows, n_in, n_out);
        if (l > 0)
            weight_gradient_add(hv_w, work->tangent[l - 1], dz, rows, n_in, n_out);
        add_column_sums(hv + agent->bias[l], dz_tangent, rows, n_out);
        if (l == 0)
            break;
        real *da = work->grad[l - 1], *da_tangent = work->grad_tangent[l - 1];
        size_t count = (size_t)rows * n_in;
        matmul_transposed(da, dz, theta + agent->weight[l], rows, n_in, n_out, 0);
        relu_mask(da, work->act[l - 1], count);
        matmul_transposed(da_tangent, dz_tangent, theta + agent->weight[l], rows, n_in, n_out, 0);
        matmul_transposed(da_tangent, dz, v + agent->weight[l], rows, n_in, n_out, 1);
        relu_mask(da_tangent, work->act[l - 1], count);
        dz = da;
        dz_tangent = da_tangent;
    }
}

/* ---- the interface -------------------------------------------------------------------- */

void agent_forward(const Agent *agent, AgentWork *work, const real *theta, AgentObs obs,
                   int batch, real *out)
{
    assert(batch >= 0 && batch <= work->max_batch);
    if (agent->spec.kind == AGENT_TABULAR)
        gather_rows(out, theta, obs.index, batch, agent->num_outputs);
    else
        mlp_forward(agent, work, theta, obs, batch, out);
}

void agent_softmax(const Agent *agent, AgentWork *work, int batch)
{
    assert(batch >= 0 && batch <= work->max_batch);
    int outs = agent->num_outputs, A = agent->num_actions, m = agent->num_y;
    for (int b = 0; b < batch; b++) {
        const real *row = work->out + (size_t)b * outs;
        if (A > 0)
            work->lse_pi[b] = softmax_row_lse(row, A, work->pi + (size_t)b * A);
        if (m > 0)
            work->lse_y[b] = softmax_row_lse(row + agent->y_offset, m, work->y + (size_t)b * m);
    }
}

void agent_backward(const Agent *agent, AgentWork *work, const real *theta, AgentObs obs,
                    int batch, const real *dout, real *dtheta)
{
    assert(batch >= 0 && batch <= work->max_batch);
    if (agent->spec.kind == AGENT_TABULAR)
        scatter_add_rows(dtheta, dout, obs.index, batch, agent->num_outputs);
    else
        mlp_backward(agent, work, theta, obs, batch, dout, dtheta);
}

void agent_forward_tangent(const Agent *agent, AgentWork *work, const real *theta,
                           const real *v, AgentObs obs, int batch, real *out_tangent)
{
    assert(batch >= 0 && batch <= work->max_batch);
    if (agent->spec.kind == AGENT_TABULAR)
        gather_rows(out_tangent, v, obs.index, batch, agent->num_outputs);
    else
        mlp_forward_tangent(agent, work, theta, v, obs, batch, out_tangent);
}

void agent_backward_tangent(const Agent *agent, AgentWork *work, const real *theta,
                            const real *v, AgentObs obs, int batch, const real *dout,
                            const real *dout_tangent, real *hv)
{
    assert(batch >= 0 && batch <= work->max_batch);
    if (agent->spec.kind == AGENT_TABULAR)
        scatter_add_rows(hv, dout_tangent, obs.index, batch, agent->num_outputs);
    else
        mlp_backward_tangent(agent, work, theta, v, obs, batch, dout, dout_tangent, hv);
}
