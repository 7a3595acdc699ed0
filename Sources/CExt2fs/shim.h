#include <ext2fs/ext2fs.h>
#include <et/com_err.h>

/* `unix_io_manager` is a mutable C global, which strict concurrency refuses to touch from
   Swift; reading it through a function keeps the access in C. */
static inline io_manager burrow_unix_io_manager(void) {
    return unix_io_manager;
}
