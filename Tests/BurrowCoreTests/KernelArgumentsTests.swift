import Testing

@testable import BurrowCore

struct KernelArgumentsTests {
    /// Nested KVM works in a KVM guest, so only emulated guests go without the module.
    @Test func kvmIsKeptFromLoadingOnlyUnderEmulation() {
        let emulated = EnvironmentService.kernelArguments(for: .tcg)
        let accelerated = EnvironmentService.kernelArguments(for: .kvm)
        #expect(emulated.contains("modprobe.blacklist=floppy,") && accelerated.contains("modprobe.blacklist=floppy,"))
        #expect(emulated.contains(",kvm_amd,kvm_intel,kvm ") && !accelerated.contains("kvm"))
        #expect(emulated.hasPrefix("console=ttyS0 ") && accelerated.hasPrefix("console=ttyS0 "))
    }
}
