import Archive

/// Stacks container image layers into one tree, the way a container runtime's overlay shows
/// them: a later layer's entry replaces what the layers below have at that path (a directory
/// included), `.wh.NAME` deletes NAME from the layers below, and `.wh..wh..opq` hides everything
/// the layers below put in its directory. Whiteouts are never written themselves.
struct LayerStack {
    private let writer: ImageTreeWriter
    private var writtenInThisLayer: Set<ImagePath> = []

    private static let whiteoutPrefix = Array(".wh.".utf8)
    private static let opaqueMarker = Array(".wh..wh..opq".utf8)
    /// `.wh..wh.` names other than the opaque marker are AUFS bookkeeping (`.wh..wh.plnk`), not content.
    private static let metadataPrefix = Array(".wh..wh.".utf8)

    init(writer: ImageTreeWriter) {
        self.writer = writer
    }

    /// Starts the next layer up: from now on, whiteouts and replacements act on what is already written.
    mutating func beginLayer() {
        writtenInThisLayer = []
    }

    mutating func add(_ entry: ValidatedEntry, nextDataBlock: () throws -> ArchiveDataBlock?) throws {
        if entry.path.components.dropLast().contains(where: { $0.starts(with: Self.metadataPrefix) }) { return }
        let name = entry.path.name
        if name.starts(with: Self.whiteoutPrefix) {
            let directory = entry.path.parent
            if name == Self.opaqueMarker {
                try writer.remove(Set(writer.children(of: directory).filter { !writtenInThisLayer.contains($0) }))
            } else if !name.starts(with: Self.metadataPrefix) {
                let hidden = directory.appending(Array(name.dropFirst(Self.whiteoutPrefix.count)))
                if !writtenInThisLayer.contains(hidden) { try writer.remove([hidden]) }
            }
            return
        }
        if !entry.isDirectory && writer.isDirectory(entry.path) && !writtenInThisLayer.contains(entry.path) {
            try writer.remove([entry.path])
        }
        try writer.add(entry, nextDataBlock: nextDataBlock)
        writtenInThisLayer.insert(entry.path)
    }
}
