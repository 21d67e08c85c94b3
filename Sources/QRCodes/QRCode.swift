import CPNG
import CQREncode
import Foundation

/// A QR code symbol (ISO/IEC 18004) for a text, encoded by Debian's libqrencode, with SVG and PNG
/// renderings for letters and the payment page.
///
/// The text is encoded as one 8-bit byte segment (UTF-8), in the smallest version (1-40) that
/// holds it at the chosen error-correction level; libqrencode picks the mask with the lowest
/// penalty score of ISO/IEC 18004 §7.8.3. Encoding is O(n) in the text's length; rendering is
/// O(size²).
///
/// ```swift
/// let code = try QRCode(text: "https://pay.example.com/p/AbC")
/// let svg = code.svg(moduleSize: 4, margin: 4)     // for a letter or an <img>
/// let png = try code.png(scale: 8, margin: 4)      // image/png bytes
/// ```
public struct QRCode: Sendable, Hashable {
    /// How much of the symbol may be damaged and still read (ISO/IEC 18004 §6.5.1).
    public enum ErrorCorrection: Int, Sendable, Hashable, CaseIterable {
        /// About 7 % of the codewords can be restored.
        case low = 0
        /// About 15 %: the usual choice for print.
        case medium = 1
        /// About 25 %.
        case quartile = 2
        /// About 30 %.
        case high = 3
    }

    /// The text the symbol holds.
    public let text: String
    /// The symbol version, 1...40.
    public let version: Int
    /// Modules per side (`17 + 4 × version`), without the quiet zone.
    public let size: Int
    public let errorCorrection: ErrorCorrection
    /// Row-major dark (true) and light modules, `size × size`.
    public let modules: [Bool]

    /// Encodes `text`.
    /// - Throws: `QRCodeError.tooLong` when the text does not fit version 40 at `errorCorrection`,
    ///   `QRCodeError.encoder` for any other failure of libqrencode (with its `errno`).
    public init(text: String, errorCorrection: ErrorCorrection = .medium) throws {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { throw QRCodeError.empty }
        errno = 0
        let level = QRecLevel(rawValue: UInt32(errorCorrection.rawValue))
        guard let code = bytes.withUnsafeBufferPointer({ QRcode_encodeData(Int32($0.count), $0.baseAddress, 0, level) }) else {
            if errno == ERANGE { throw QRCodeError.tooLong(bytes: bytes.count) }
            throw QRCodeError.encoder(errno: errno)
        }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        self.text = text
        self.version = Int(code.pointee.version)
        self.size = width
        self.errorCorrection = errorCorrection
        // Bit 0 of each byte is the module's colour (libqrencode's documented layout).
        self.modules = (0..<width * width).map { code.pointee.data[$0] & 1 == 1 }
    }

    /// Whether the module at (`row`, `column`) is dark.
    /// - Precondition: both are in `0..<size`.
    public subscript(row: Int, column: Int) -> Bool {
        precondition((0..<size).contains(row) && (0..<size).contains(column), "QRCode: module (\(row), \(column)) outside 0..<\(size)")
        return modules[row * size + column]
    }

    /// The symbol as a standalone SVG document: one path of dark modules on a white square,
    /// `crispEdges`, with a `<title>` for screen readers.
    /// - Parameters:
    ///   - moduleSize: the side of one module in SVG user units (the `width`/`height` attributes).
    ///   - margin: the quiet zone in modules (the standard asks for 4).
    ///   - title: the accessible name (default: the encoded text).
    public func svg(moduleSize: Int = 4, margin: Int = 4, title: String? = nil) -> String {
        precondition(moduleSize > 0 && margin >= 0, "QRCode.svg: moduleSize must be positive and margin non-negative")
        let side = size + 2 * margin
        var path = ""
        for row in 0..<size {
            var column = 0
            while column < size {
                guard self[row, column] else { column += 1; continue }
                let start = column
                while column < size && self[row, column] { column += 1 }
                path += "M\(start + margin) \(row + margin)h\(column - start)v1h-\(column - start)z"
            }
        }
        let label = Self.escape(title ?? text)
        return """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(side * moduleSize)" height="\(side * moduleSize)" \
        viewBox="0 0 \(side) \(side)" shape-rendering="crispEdges" role="img"><title>\(label)</title>\
        <rect width="\(side)" height="\(side)" fill="#fff"/><path fill="#000" d="\(path)"/></svg>
        """
    }

    /// The symbol as an 8-bit greyscale PNG written by libpng.
    /// - Parameters:
    ///   - scale: pixels per module.
    ///   - margin: the quiet zone in modules.
    /// - Throws: `QRCodeError.png` with libpng's message when writing fails.
    public func png(scale: Int = 8, margin: Int = 4) throws -> [UInt8] {
        precondition(scale > 0 && margin >= 0, "QRCode.png: scale must be positive and margin non-negative")
        let pixels = (size + 2 * margin) * scale
        var buffer = [UInt8](repeating: 255, count: pixels * pixels)
        for row in 0..<size {
            for column in 0..<size where self[row, column] {
                for y in 0..<scale {
                    let base = ((row + margin) * scale + y) * pixels + (column + margin) * scale
                    for x in 0..<scale { buffer[base + x] = 0 }
                }
            }
        }
        return try PNGImage.encodeGray(buffer, width: pixels, height: pixels)
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}

/// Why a QR code could not be made.
public enum QRCodeError: Error, Equatable, CustomStringConvertible {
    /// An empty text has no symbol.
    case empty
    /// The text is longer than a version-40 symbol holds at the chosen error correction.
    case tooLong(bytes: Int)
    /// libqrencode failed otherwise.
    case encoder(errno: Int32)
    /// libpng failed to write or read an image.
    case png(String)

    public var description: String {
        switch self {
        case .empty: "QR code: the text is empty; give the URL or text to encode"
        case .tooLong(let n): "QR code: the text has \(n) bytes, more than a version-40 symbol holds; shorten it (a payment link needs about 60)"
        case .encoder(let e): "QR code: libqrencode failed (errno \(e))"
        case .png(let m): "PNG: \(m)"
        }
    }
}

/// 8-bit greyscale PNG images through libpng's simplified API (`png_image`).
public enum PNGImage {
    /// PNG bytes of a row-major greyscale image (0 black ... 255 white).
    /// - Throws: `QRCodeError.png` with libpng's message.
    public static func encodeGray(_ pixels: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        precondition(width > 0 && height > 0 && pixels.count == width * height, "PNGImage: \(pixels.count) pixels for \(width) × \(height)")
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = UInt32(PNG_FORMAT_GRAY)
        var length = 0
        // First the size, then the bytes.
        guard pixels.withUnsafeBytes({ png_image_write_to_memory(&image, nil, &length, 0, $0.baseAddress, Int32(width), nil) }) != 0 else {
            throw QRCodeError.png(message(&image))
        }
        var out = [UInt8](repeating: 0, count: length)
        let ok = out.withUnsafeMutableBytes { dst in
            pixels.withUnsafeBytes { png_image_write_to_memory(&image, dst.baseAddress, &length, 0, $0.baseAddress, Int32(width), nil) }
        }
        guard ok != 0 else { throw QRCodeError.png(message(&image)) }
        return Array(out.prefix(length))
    }

    /// Reads a PNG into 8-bit greyscale pixels (colour images are converted by libpng).
    /// - Throws: `QRCodeError.png` when the bytes are not a PNG libpng can read.
    public static func decodeGray(_ data: [UInt8]) throws -> (width: Int, height: Int, pixels: [UInt8]) {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        guard data.withUnsafeBytes({ png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }) != 0 else {
            throw QRCodeError.png(message(&image))
        }
        image.format = UInt32(PNG_FORMAT_GRAY)
        let width = Int(image.width), height = Int(image.height)
        var pixels = [UInt8](repeating: 0, count: width * height)
        let ok = pixels.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, Int32(width), nil) }
        guard ok != 0 else { throw QRCodeError.png(message(&image)) }
        return (width, height, pixels)
    }

    static func message(_ image: inout png_image) -> String {
        defer { png_image_free(&image) }
        return withUnsafeBytes(of: image.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
