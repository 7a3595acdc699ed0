import Foundation

/// Decides between KVM and TCG without booting anything.
///
/// KVM is used when `/dev/kvm` can be opened read-write and the loaded KVM flavour is a real one
/// (`kvm_intel` or `kvm_amd`). A paravirtual nested host (`kvm_pvm`) exposes /dev/kvm too, but
/// stock guest kernels hang or abort on it, so it counts as unusable.
public struct AcceleratorProbe: Sendable {
    public let sysfsModules: URL
    public let kvmDevice: String

    public init(sysfsModules: URL = URL(fileURLWithPath: "/sys/module"), kvmDevice: String = "/dev/kvm") {
        self.sysfsModules = sysfsModules
        self.kvmDevice = kvmDevice
    }

    public struct Verdict: Sendable, Equatable {
        public let accelerator: Accelerator
        /// Why KVM is not used; nil when it is.
        public let reason: String?
    }

    public func detect() -> Verdict {
        func loaded(_ module: String) -> Bool { FileManager.default.fileExists(atPath: sysfsModules.appendingPathComponent(module).path) }
        guard FileManager.default.fileExists(atPath: kvmDevice) else {
            return Verdict(accelerator: .tcg, reason: "\(kvmDevice) does not exist (no hardware virtualisation, or the kvm module is not loaded)")
        }
        let descriptor = open(kvmDevice, O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else {
            return Verdict(accelerator: .tcg, reason: "\(kvmDevice) cannot be opened (\(String(cString: strerror(errno)))); add yourself to the kvm group")
        }
        close(descriptor)
        if loaded("kvm_pvm") {
            return Verdict(accelerator: .tcg, reason: "this is a nested PVM host, whose KVM cannot run stock guest kernels")
        }
        guard loaded("kvm_intel") || loaded("kvm_amd") else {
            return Verdict(accelerator: .tcg, reason: "neither kvm_intel nor kvm_amd is loaded")
        }
        return Verdict(accelerator: .kvm, reason: nil)
    }

    /// The accelerator to use: an explicit choice (`--accel`, `BURROW_ACCEL`) wins over detection.
    public func choose(explicit: Accelerator?, environment: [String: String] = ProcessInfo.processInfo.environment) -> Verdict {
        if let explicit { return Verdict(accelerator: explicit, reason: explicit == .tcg ? "--accel tcg" : nil) }
        if let value = environment["BURROW_ACCEL"], let forced = Accelerator(rawValue: value) {
            return Verdict(accelerator: forced, reason: forced == .tcg ? "BURROW_ACCEL=tcg" : nil)
        }
        return detect()
    }
}
