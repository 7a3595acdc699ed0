#include <stdlib.h>
#include <guestfs.h>

/* guestfs_create_flags is variadic, which Swift cannot call. Without the environment, the handle
   ignores LIBGUESTFS_* variables (LIBGUESTFS_DEBUG and LIBGUESTFS_TRACE would print to stderr):
   the caller sets the backend explicitly. */
static inline guestfs_h *burrow_guestfs_create_without_environment(void) {
    return guestfs_create_flags(GUESTFS_CREATE_NO_ENVIRONMENT);
}
