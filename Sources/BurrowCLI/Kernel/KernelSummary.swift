import BurrowCore
import Foundation

/// One kernel as `kernel ls --json`, `kernel fetch --json` and `kernel import --json` print it.
struct KernelSummary: Encodable {
    let version: String
    let directory: String
    let bootKernel: String
    let vmlinuz: String
    let vmlinux: String?
    let initrd: String
    let modulesImage: String
    let source: String
    let createdAt: Date
    /// Whether new guests boot this kernel (the newest release).
    let current: Bool

    init(_ kernel: KernelCore, current: Bool) {
        version = kernel.version
        directory = kernel.directory.path
        bootKernel = kernel.bootKernel.path
        vmlinuz = kernel.vmlinuz.path
        vmlinux = kernel.vmlinux?.path
        initrd = kernel.initrd.path
        modulesImage = kernel.modulesImage.path
        source = kernel.source
        createdAt = kernel.createdAt
        self.current = current
    }
}
