import Hummingbird
import PaymentPage

/// Adds the payment page's routes to `router` (the pages themselves are `PaymentPages`):
///
/// | route | handler |
/// |---|---|
/// | `GET /p/{token}` | `PaymentPages.page` |
/// | `POST /p/{token}/pay` | `PaymentPages.pay` |
/// | `POST /p/{token}/contact` | `PaymentPages.contact` |
/// | `GET /p/{token}/qr.svg` | `PaymentPages.qrSVG` |
/// | `GET /p/{token}/qr.png` | `PaymentPages.qrPNG` |
///
/// Form bodies are read up to 16 KiB (a larger one gets 413).
public func addPaymentPageRoutes<Context: RequestContext>(to router: Router<Context>, pages: PaymentPages) {
    let maxForm = 16 * 1024
    router.get("/p/:token") { request, context in
        let token = try context.parameters.require("token")
        return await response(pages.page(token: token, query: query(request), acceptLanguage: request.headers[.acceptLanguage]))
    }
    router.post("/p/:token/pay") { request, context in
        let token = try context.parameters.require("token")
        let body = try await request.body.collect(upTo: maxForm)
        return await response(pages.pay(token: token, body: Array(body.readableBytesView), query: query(request),
                                        acceptLanguage: request.headers[.acceptLanguage]))
    }
    router.post("/p/:token/contact") { request, context in
        let token = try context.parameters.require("token")
        let body = try await request.body.collect(upTo: maxForm)
        return await response(pages.contact(token: token, body: Array(body.readableBytesView), query: query(request),
                                            acceptLanguage: request.headers[.acceptLanguage]))
    }
    router.get("/p/:token/qr.svg") { _, context in
        response(pages.qrSVG(token: try context.parameters.require("token")))
    }
    router.get("/p/:token/qr.png") { _, context in
        response(pages.qrPNG(token: try context.parameters.require("token")))
    }
}

/// The request's query fields, decoded as a form.
private func query(_ request: Request) -> [String: String] {
    FormData.parse(query: request.uri.query ?? "")
}

/// A page response as a Hummingbird response.
private func response(_ page: PageResponse) -> Response {
    var headers = HTTPFields()
    headers[.contentType] = page.contentType
    for h in page.headers {
        // HTTPFields.Element is HTTPTypes' HTTPField (Hummingbird re-exports HTTPFields only).
        if let name = HTTPFields.Element.Name(h.name) { headers.append(HTTPFields.Element(name: name, value: h.value)) }
    }
    return Response(status: HTTPResponse.Status(code: page.status), headers: headers,
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: page.body)))
}
