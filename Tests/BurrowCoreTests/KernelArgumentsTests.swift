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
        #expect(emulated.contains(" cryptomgr.notests ") && accelerated.contains(" cryptomgr.notests "))
    }

    /// Only an emulated guest's /init trades sshd's per-connection re-exec for speed.
    @Test func onlyEmulatedGuestsAreToldSo() {
        #expect(EnvironmentService.kernelArguments(for: .tcg).split(separator: " ").contains("burrow.emulated=1"))
        #expect(!EnvironmentService.kernelArguments(for: .kvm).contains("burrow.emulated"))
    }

    /// A guest on the real CPU keeps its Spectre defences; an emulated one has nothing to defend.
    @Test func onlyAnEmulatedCPUGoesWithoutSpeculationDefences() {
        #expect(EnvironmentService.kernelArguments(for: .tcg).split(separator: " ").contains("mitigations=off"))
        #expect(!EnvironmentService.kernelArguments(for: .kvm).contains("mitigations"))
    }

    /// Units masked on every boot, by accelerator alike.
    @Test func earlyModuleLoadsWithNothingToDoAreMasked() {
        for accelerator in [Accelerator.tcg, .kvm] {
            let masked = EnvironmentService.kernelArguments(for: accelerator).split(separator: " ").filter { $0.hasPrefix("systemd.mask=") }
            #expect(masked == ["e2scrub_reap.service", "modprobe@drm.service", "modprobe@efi_pstore.service", "modprobe@dm_mod.service", "modprobe@loop.service"].map { "systemd.mask=\($0)" })
        }
    }
}
