import BurrowStore
import Foundation

/// A CUDA toolkit version as `--cuda` and `cuda:` take it: `MAJOR.MINOR` (`12.4`, NVIDIA's
/// package `cuda-toolkit-12-4`) or a bare major version (`12`, `cuda-toolkit-12`: its newest
/// release). Patch levels have no package of their own, so they are refused.
enum CUDAVersion {
    static func isValid(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return (1...2).contains(parts.count) && parts.allSatisfy { part in
            (1...3).contains(part.count) && part.allSatisfy { $0.isASCII && $0.isNumber }
        }
    }

    static func validate(_ text: String) throws {
        guard isValid(text) else {
            throw BurrowError(.invalidInput, "'\(text)' is not a CUDA version such as 12.4", hint: "Give MAJOR.MINOR (12.4), or a major version (12) for its newest release.")
        }
    }
}

extension GuestProvisioner {
    /// NVIDIA publishes its driver and CUDA packages for these package managers only.
    static let cudaFamilies = ["apt", "dnf"]

    /// The CUDA install script for `base`'s package manager (`cuda/common.sh`, then the family's
    /// script); refuses images NVIDIA has no packages for, before anything slow happens.
    static func cudaTemplate(for base: BaseImageRecord) throws -> String {
        guard let family = base.guestTraits?.packageManager, cudaFamilies.contains(family) else {
            let found = base.guestTraits?.packageManager.map { "uses \($0)" } ?? "has no package manager burrow recognised"
            throw BurrowError(
                .invalidInput, "CUDA needs an apt or dnf distribution; this image \(found)",
                hint: "NVIDIA's CUDA repositories serve Debian, Ubuntu, Fedora and the RHEL family: use one of those images (burrow image pull --list)."
            )
        }
        return try template("cuda/common.sh") + template("cuda/\(family).sh")
    }

    /// The layer with NVIDIA's driver (open kernel modules built for `kernel`) and CUDA `version`
    /// above `parentKey` (the image's guest-ready layer; nil for the image itself), built now
    /// when it is not cached. Its key covers everything the result depends on: the parent, the
    /// kernel release the modules are built for, the version and the script.
    func cudaLayer(version: String, template: String, on parentKey: String?, base: BaseImageRecord, kernel: KernelCore, accelerator: Accelerator) async throws -> String {
        try CUDAVersion.validate(version)
        let script = Self.cudaScript(template, version: version)
        let key = Self.cudaLayerKey(parent: parentKey ?? base.digest, kernelRelease: kernel.version, version: version, script: script)
        let layer = LayerRecord(
            key: key, parentDigest: base.digest, parentKey: parentKey, kind: .provisioned,
            purpose: "NVIDIA driver and CUDA \(version) for kernel \(kernel.version)", createdAt: Date()
        )
        if try isBuilt(layer) { return key }
        progress("installing the NVIDIA driver and CUDA \(version) (once per image, kernel and version; the result is cached)")
        // Downloads run to gigabytes and the driver build needs memory: a bigger guest and an hour.
        try await build(
            layer, on: try home.backingFile(digest: base.digest, layerKey: parentKey, database: database), script: script,
            kernel: kernel, accelerator: accelerator, memoryMiB: 4096, timeout: Self.timeout(accelerator, kvm: 3600)
        )
        return key
    }

    /// The provisioning guest runs its script with an empty environment, so the version travels
    /// in the script itself.
    static func cudaScript(_ template: String, version: String) -> String {
        "BURROW_CUDA_VERSION='\(version)'\nexport BURROW_CUDA_VERSION\n" + template
    }

    static func cudaLayerKey(parent: String, kernelRelease: String, version: String, script: String) -> String {
        layerKey(parent: [parent, kernelRelease, version].joined(separator: "\n"), script: script)
    }
}
