/* quiet_stderr.h: mutes fd 2 around calls a test expects to fail, so their "lpg: ..." messages
 * (checked through checkpoint_last_error or return codes instead) do not clutter the run. */
#ifndef LPG_QUIET_STDERR_H
#define LPG_QUIET_STDERR_H

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static int quiet_saved_fd = -1;

static inline void mute_stderr(void)
{
    fflush(stderr);
    quiet_saved_fd = dup(2);
    int null_fd = open("/dev/null", O_WRONLY);
    if (null_fd >= 0) {
        dup2(null_fd, 2);
        close(null_fd);
    }
}

static inline void unmute_stderr(void)
{
    fflush(stderr);
    if (quiet_saved_fd >= 0) {
        dup2(quiet_saved_fd, 2);
        close(quiet_saved_fd);
        quiet_saved_fd = -1;
    }
}

#endif
