import ArgumentParser

/// `burrow kernel …`: the shared guest kernels every environment boots directly.
struct KernelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernel",
        abstract: "Fetch, import and list guest kernels.",
        discussion: """
            Rootfs tarballs carry no kernel. burrow keeps its own guest kernels in
            $BURROW_HOME/kernels/<release>/: the kernel, its uncompressed vmlinux when
            one can be extracted, a minimal initramfs and an image of its modules.
            New guests boot the newest release.
            Examples:
              burrow kernel fetch
              burrow kernel import ./vmlinuz --modules ./modules.tar.gz
              burrow kernel ls --json
            """,
        subcommands: [KernelFetch.self, KernelImport.self, KernelList.self]
    )
}
