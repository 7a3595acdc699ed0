#include <stdlib.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

/* libvirt prints every error to stderr unless a handler is installed; this one swallows
   them so errors are reported once, by the wrapper, from virGetLastError at the call. */
static inline void burrow_virt_ignore_error(void *userData, virErrorPtr error) {
    (void)userData;
    (void)error;
}

static inline void burrow_virt_silence_errors(void) {
    virSetErrorFunc(NULL, burrow_virt_ignore_error);
}
