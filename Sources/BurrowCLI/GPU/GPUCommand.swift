import ArgumentParser

/// `burrow gpu …`: the host's NVIDIA GPUs and whether they can be passed to environments.
struct GPUCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gpu",
        abstract: "List GPUs and check the host for GPU passthrough.",
        discussion: """
            burrow hands GPUs to environments by VFIO passthrough, whole IOMMU groups.
            Hardware is read from $BURROW_SYSFS (default /sys), $BURROW_PROC (/proc),
            model names from $BURROW_PCI_IDS (default /usr/share/misc/pci.ids).

            Examples:
              burrow gpu ls
              burrow gpu doctor
            """,
        subcommands: [GPUList.self, GPUDoctor.self]
    )
}
