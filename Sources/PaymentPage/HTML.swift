/// HTML text escaping for the payment page: every value from the store or the request passes
/// through `HTML.escape` before it is written into a page.
public enum HTML {
    /// `s` with `&`, `<`, `>`, `"` and `'` replaced by character references, safe in element
    /// content and in double- or single-quoted attribute values.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
