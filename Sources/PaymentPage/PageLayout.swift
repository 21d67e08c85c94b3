/// The HTML frame of every payment page: language, mobile viewport, inline styles (no external
/// assets, no scripts), a skip link, the payee and the language switch.
enum PageLayout {
    static func document(text: PageText, title: String, payee: String?, languageLinks: String?, main: String) -> String {
        let e = HTML.escape
        var header = ""
        if let payee { header += "<p class=\"payee\">\(e(payee))</p>\n" }
        if let languageLinks { header += "<nav class=\"languages\" aria-label=\"Sprache / Language\">\(languageLinks)</nav>\n" }
        return """
        <!doctype html>
        <html lang="\(e(text.language))">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="robots" content="noindex, nofollow">
        <title>\(e(title))</title>
        <style>\(css)</style>
        </head>
        <body>
        <a class="skip" href="#main">\(e(text.skipToContent))</a>
        <header>
        \(header)</header>
        <main id="main">
        \(main)
        </main>
        </body>
        </html>

        """
    }

    static let css = """
    :root{color-scheme:light;--ink:#1b1b1b;--muted:#505a5f;--accent:#00598a;--error:#b10e1e;--line:#b1b4b6}
    *{box-sizing:border-box}
    body{margin:0;font:1.0625rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:#fff;overflow-wrap:break-word}
    header,main{max-width:40rem;margin:0 auto;padding:1rem}
    header{display:flex;flex-wrap:wrap;justify-content:space-between;gap:.5rem;border-bottom:1px solid var(--line)}
    .payee{font-weight:600;margin:0}
    .languages a{margin-left:.75rem;color:var(--accent)}
    .languages a[aria-current]{font-weight:700;text-decoration:none;color:var(--ink)}
    .skip{position:absolute;left:-999px}
    .skip:focus{left:1rem;top:1rem;background:#ffdd00;padding:.5rem;z-index:1}
    h1{font-size:1.6rem;margin:.5rem 0 1rem}
    h2{font-size:1.25rem;margin:1.75rem 0 .5rem}
    dl.invoice{margin:0;border-top:1px solid var(--line)}
    dl.invoice div{display:flex;justify-content:space-between;gap:1rem;padding:.5rem 0;border-bottom:1px solid var(--line)}
    dt{color:var(--muted)}
    dd{margin:0;font-weight:600;text-align:right}
    .field{margin:0 0 1.25rem;border:0;padding:0}
    label,legend{display:block;font-weight:600}
    .hint{color:var(--muted);margin:.125rem 0 .375rem}
    input[type=email],input[type=tel]{width:100%;max-width:100%;font:inherit;padding:.5rem;border:2px solid var(--ink);border-radius:0}
    input:focus,button:focus,a:focus{outline:3px solid #ffdd00;outline-offset:0}
    .choice{display:flex;align-items:flex-start;gap:.5rem;margin:.375rem 0}
    .choice input{width:1.5rem;height:1.5rem;margin:0;flex:none}
    .choice label{font-weight:400}
    button{font:inherit;font-weight:600;padding:.625rem 1.25rem;border:0;background:var(--accent);color:#fff;cursor:pointer;min-height:2.75rem}
    .has-error{border-left:4px solid var(--error);padding-left:.75rem}
    .has-error input[type=email],.has-error input[type=tel]{border-color:var(--error)}
    .error-message{color:var(--error);font-weight:600;margin:.25rem 0}
    .error-summary{border:4px solid var(--error);padding:.75rem 1rem;margin-bottom:1rem}
    .error-summary h2{margin-top:0}
    .error-summary a{color:var(--error);font-weight:600}
    .notice{border-left:4px solid var(--accent);padding:.5rem .75rem;background:#f3f2f1}
    """
}
