import Mustache

/// A subject or body template (Mustache, plain text: nothing is HTML-escaped).
///
/// Most templates only fill in placeholders (`{{amount}}`, `{{{payment_link}}}`, `{{&name}}`):
/// those are split once into literal text and placeholder names and rendered by concatenation,
/// which is what Mustache renders for them (no escaping in text mode; standalone-line rules apply
/// only to sections and comments). A template with sections, inverted sections or comments is
/// rendered by Mustache.
struct TextTemplate: Sendable {
    enum Piece: Sendable, Equatable {
        case literal(String)
        case placeholder(String)
    }

    let mustache: MustacheTemplate
    /// Nil when the template needs Mustache.
    let pieces: [Piece]?

    init(source: String, mustache: MustacheTemplate) {
        self.mustache = mustache
        self.pieces = Self.split(source)
    }

    /// `source` as literals and placeholders, or nil when it has any other kind of tag.
    static func split(_ source: String) -> [Piece]? {
        var pieces: [Piece] = []
        var rest = source[...]
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { pieces.append(.literal(String(rest[..<open.lowerBound]))) }
            let triple = rest[open.upperBound...].hasPrefix("{")
            guard let close = rest[open.upperBound...].range(of: triple ? "}}}" : "}}") else { return nil }
            var inner = rest[open.upperBound..<close.lowerBound]
            if triple {
                inner = inner.dropFirst()
            } else if inner.first == "&" {
                inner = inner.dropFirst()
            }
            let name = inner.trimmingCharacters(in: .whitespaces)
            // Sections, comments, partials, pragmas and dotted look-ups go to Mustache.
            guard let first = name.unicodeScalars.first, !"#^/!>=%<$".unicodeScalars.contains(first), !name.contains("."),
                  !name.isEmpty else { return nil }
            pieces.append(.placeholder(name))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { pieces.append(.literal(String(rest))) }
        return pieces
    }

    /// The template filled in with `values` (a missing value renders as nothing, as in Mustache).
    func render(_ values: [String: String]) -> String {
        guard let pieces else { return mustache.render(values) }
        var out = ""
        out.reserveCapacity(256)
        for piece in pieces {
            switch piece {
            case .literal(let text): out += text
            case .placeholder(let name): if let value = values[name] { out += value }
            }
        }
        return out
    }

    /// What Mustache renders (the reference for the fast path's tests).
    func renderedByMustache(_ values: [String: String]) -> String { mustache.render(values) }
}
