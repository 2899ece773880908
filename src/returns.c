/* returns.c: discounted returns and GAE over time-major unrolls (see returns.h). */
#include "returns.h"

void returns_discounted(const real *reward, const uint8_t *done, const real *bootstrap, int T,
                        int n, real gamma, real *returns)
{
    for (int i = 0; i < n; i++) {
        real next = bootstrap[i];
        for (int t = T - 1; t >= 0; t--) {
            int k = t * n + i;
            next = reward[k] + (done[k] ? (real)0 : gamma * next);
            returns[k] = next;
        }
    }
}

void returns_gae(const real *reward, const uint8_t *done, const real *value, const real *bootstrap,
                 int T, int n, real gamma, real lambda, real *advantage, real *targets)
{
    for (int i = 0; i < n; i++) {
        real next_value = bootstrap[i];
        real next_advantage = 0;
        for (int t = T - 1; t >= 0; t--) {
            int k = t * n + i;
            real continues = done[k] ? (real)0 : (real)1;
            real delta = reward[k] + gamma * continues * next_value - value[k];
            next_advantage = delta + gamma * lambda * continues * next_advantage;
            advantage[k] = next_advantage;
            if (targets)
                targets[k] = next_advantage + value[k];
            next_value = value[k];
        }
    }
}
