/// A dense matrix of `Double` in column-major order, contiguous, ready for BLAS and LAPACK.
///
/// `Matrix` has value semantics with copy-on-write: copying a `Matrix` shares its storage
/// until one of the copies is mutated, so passing a large design matrix around never copies it.
/// Views (`MatrixView`) address a block of rows and columns of a matrix without copying.
///
/// ```swift
/// var a = Matrix(rows: 2, columns: 2, rowMajor: [4, 2,
///                                                2, 3])
/// let l = try Cholesky(a).lower      // 2 x 2 lower-triangular factor
/// a[0, 1] = 1                        // copy-on-write: `l` is unaffected
/// ```
public struct Matrix: Sendable, Equatable {
    /// Number of rows.
    public let rows: Int
    /// Number of columns.
    public let columns: Int
    /// Elements in column-major order: element `(i, j)` is at `i + j * rows`.
    public internal(set) var elements: [Double]

    /// A `rows` x `columns` matrix with every element set to `value`.
    public init(rows: Int, columns: Int, repeating value: Double = 0) {
        precondition(rows >= 0 && columns >= 0, "Matrix: negative shape \(rows) x \(columns)")
        self.rows = rows
        self.columns = columns
        self.elements = [Double](repeating: value, count: rows * columns)
    }

    /// A matrix over `elements` given in column-major order; the array is adopted, not copied.
    public init(rows: Int, columns: Int, columnMajor elements: [Double]) {
        precondition(rows >= 0 && columns >= 0, "Matrix: negative shape \(rows) x \(columns)")
        precondition(elements.count == rows * columns,
                     "Matrix: \(elements.count) elements for a \(rows) x \(columns) matrix")
        self.rows = rows
        self.columns = columns
        self.elements = elements
    }

    /// A matrix from elements given row by row (as they are written in source code).
    public init(rows: Int, columns: Int, rowMajor values: [Double]) {
        precondition(values.count == rows * columns,
                     "Matrix: \(values.count) elements for a \(rows) x \(columns) matrix")
        self.init(rows: rows, columns: columns)
        for i in 0..<rows {
            for j in 0..<columns { elements[i + j * rows] = values[i * columns + j] }
        }
    }

    /// A matrix whose columns are the given arrays (all of the same length).
    public init(columns: [[Double]]) {
        let m = columns.first?.count ?? 0
        precondition(columns.allSatisfy { $0.count == m }, "Matrix(columns:): columns differ in length")
        var storage = [Double]()
        storage.reserveCapacity(m * columns.count)
        for column in columns { storage.append(contentsOf: column) }
        self.init(rows: m, columns: columns.count, columnMajor: storage)
    }

    /// A matrix whose element `(i, j)` is `value(i, j)`.
    public init(rows: Int, columns: Int, _ value: (_ row: Int, _ column: Int) -> Double) {
        self.init(rows: rows, columns: columns)
        for j in 0..<columns {
            for i in 0..<rows { elements[i + j * rows] = value(i, j) }
        }
    }

    /// The `n` x `n` identity matrix.
    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, columns: n)
        for i in 0..<n { m.elements[i + i * n] = 1 }
        return m
    }

    /// A square matrix with `diagonal` on its diagonal and zeros elsewhere.
    public static func diagonal(_ diagonal: Vector) -> Matrix {
        var m = Matrix(rows: diagonal.count, columns: diagonal.count)
        for i in 0..<diagonal.count { m.elements[i + i * diagonal.count] = diagonal[i] }
        return m
    }

    public subscript(row: Int, column: Int) -> Double {
        get {
            precondition(row >= 0 && row < rows && column >= 0 && column < columns,
                         "Matrix: index (\(row), \(column)) outside \(rows) x \(columns)")
            return elements[row + column * rows]
        }
        set {
            precondition(row >= 0 && row < rows && column >= 0 && column < columns,
                         "Matrix: index (\(row), \(column)) outside \(rows) x \(columns)")
            elements[row + column * rows] = newValue
        }
    }

    /// Whether the matrix is square.
    public var isSquare: Bool { rows == columns }

    /// A copy of column `j`.
    public func column(_ j: Int) -> Vector {
        precondition(j >= 0 && j < columns, "Matrix: column \(j) outside 0..<\(columns)")
        return Vector(Array(elements[(j * rows)..<((j + 1) * rows)]))
    }

    /// A copy of row `i`.
    public func row(_ i: Int) -> Vector {
        precondition(i >= 0 && i < rows, "Matrix: row \(i) outside 0..<\(rows)")
        return Vector((0..<columns).map { elements[i + $0 * rows] })
    }

    /// Replaces column `j` with `values`.
    public mutating func setColumn(_ j: Int, to values: Vector) {
        precondition(j >= 0 && j < columns && values.count == rows, "Matrix.setColumn: shape mismatch")
        elements.replaceSubrange((j * rows)..<((j + 1) * rows), with: values.elements)
    }

    /// The main diagonal.
    public var diagonal: Vector {
        Vector((0..<Swift.min(rows, columns)).map { elements[$0 + $0 * rows] })
    }

    /// The transpose, as a new matrix.
    public var transposed: Matrix {
        var t = Matrix(rows: columns, columns: rows)
        for j in 0..<columns {
            for i in 0..<rows { t.elements[j + i * columns] = elements[i + j * rows] }
        }
        return t
    }

    /// A view of the whole matrix (no copy).
    public var view: MatrixView {
        MatrixView(storage: elements, offset: 0, rows: rows, columns: columns, leadingDimension: Swift.max(rows, 1))
    }

    /// A view of the rows in `range`, all columns (no copy). Row blocks of a tall design
    /// matrix are streamed this way.
    public func rows(_ range: Range<Int>) -> MatrixView { view.rows(range) }

    /// A view of a block of rows and columns (no copy).
    public func block(rows rowRange: Range<Int>, columns columnRange: Range<Int>) -> MatrixView {
        view.block(rows: rowRange, columns: columnRange)
    }

    /// Views of consecutive blocks of at most `size` rows covering the matrix.
    public func rowBlocks(ofSize size: Int) -> [MatrixView] { view.rowBlocks(ofSize: size) }

    /// Largest absolute element-wise difference to `other` (same shape).
    public func maxAbsDifference(_ other: Matrix) -> Double {
        precondition(rows == other.rows && columns == other.columns, "Matrix: shape mismatch")
        var m = 0.0
        for k in 0..<elements.count { m = Swift.max(m, abs(elements[k] - other.elements[k])) }
        return m
    }
}

extension Matrix: CustomStringConvertible {
    public var description: String {
        let shown = Swift.min(rows, 8)
        var lines = ["Matrix \(rows) x \(columns)"]
        for i in 0..<shown {
            let row = (0..<Swift.min(columns, 8)).map { String(format: "%10.4g", self[i, $0]) }
            lines.append(row.joined(separator: " ") + (columns > 8 ? " ..." : ""))
        }
        if rows > shown { lines.append("...") }
        return lines.joined(separator: "\n")
    }
}

/// A read-only block of a column-major matrix: a range of rows and columns addressed in place.
///
/// A view keeps the matrix's storage alive without copying it, and its elements are laid out
/// for BLAS with a leading dimension equal to the parent's row count.
public struct MatrixView: Sendable {
    @usableFromInline let storage: [Double]
    @usableFromInline let offset: Int
    /// Number of rows in the view.
    public let rows: Int
    /// Number of columns in the view.
    public let columns: Int
    @usableFromInline let leadingDimension: Int

    init(storage: [Double], offset: Int, rows: Int, columns: Int, leadingDimension: Int) {
        self.storage = storage
        self.offset = offset
        self.rows = rows
        self.columns = columns
        self.leadingDimension = leadingDimension
    }

    @inlinable
    public subscript(row: Int, column: Int) -> Double {
        precondition(row >= 0 && row < rows && column >= 0 && column < columns,
                     "MatrixView: index (\(row), \(column)) outside \(rows) x \(columns)")
        return storage[offset + row + column * leadingDimension]
    }

    /// The rows in `range` of this view (no copy).
    public func rows(_ range: Range<Int>) -> MatrixView {
        block(rows: range, columns: 0..<columns)
    }

    /// A block of this view (no copy).
    public func block(rows rowRange: Range<Int>, columns columnRange: Range<Int>) -> MatrixView {
        precondition(rowRange.lowerBound >= 0 && rowRange.upperBound <= rows,
                     "MatrixView: rows \(rowRange) outside 0..<\(rows)")
        precondition(columnRange.lowerBound >= 0 && columnRange.upperBound <= columns,
                     "MatrixView: columns \(columnRange) outside 0..<\(columns)")
        return MatrixView(storage: storage,
                          offset: offset + rowRange.lowerBound + columnRange.lowerBound * leadingDimension,
                          rows: rowRange.count, columns: columnRange.count,
                          leadingDimension: leadingDimension)
    }

    /// Consecutive blocks of at most `size` rows covering the view.
    public func rowBlocks(ofSize size: Int) -> [MatrixView] {
        precondition(size > 0, "MatrixView.rowBlocks: block size must be positive")
        return stride(from: 0, to: rows, by: size).map { rows($0..<Swift.min($0 + size, rows)) }
    }

    /// Whether the view covers whole columns of its storage, so its elements are contiguous.
    public var isContiguous: Bool { rows == leadingDimension || columns <= 1 }

    /// The view's elements as a new matrix.
    public func copy() -> Matrix {
        if isContiguous && offset == 0 && storage.count == rows * columns {
            return Matrix(rows: rows, columns: columns, columnMajor: storage)
        }
        var out = [Double](repeating: 0, count: rows * columns)
        for j in 0..<columns {
            let src = offset + j * leadingDimension
            for i in 0..<rows { out[i + j * rows] = storage[src + i] }
        }
        return Matrix(rows: rows, columns: columns, columnMajor: out)
    }

    /// Calls `body` with a pointer to the first element and the leading dimension.
    @usableFromInline
    func withUnsafeElements<R>(_ body: (UnsafePointer<Double>, Int) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer { buffer in
            // An empty view may sit at the end of an empty buffer; BLAS never reads it then.
            guard let base = buffer.baseAddress else {
                var dummy = 0.0
                return try body(&dummy, leadingDimension)
            }
            return try body(base + offset, leadingDimension)
        }
    }
}

/// A dense vector of `Double`, contiguous.
public struct Vector: Sendable, Equatable, RandomAccessCollection, MutableCollection, ExpressibleByArrayLiteral {
    /// The elements.
    public var elements: [Double]

    public init(_ elements: [Double]) { self.elements = elements }
    public init(arrayLiteral elements: Double...) { self.elements = elements }
    public init(count: Int, repeating value: Double = 0) {
        elements = [Double](repeating: value, count: count)
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { elements.count }
    @inlinable public subscript(i: Int) -> Double {
        get { elements[i] }
        set { elements[i] = newValue }
    }

    /// This vector as an `n` x 1 matrix (shares storage).
    public var asColumn: Matrix { Matrix(rows: elements.count, columns: 1, columnMajor: elements) }

    /// Largest absolute element-wise difference to `other`.
    public func maxAbsDifference(_ other: Vector) -> Double {
        precondition(count == other.count, "Vector: length mismatch \(count) vs \(other.count)")
        var m = 0.0
        for k in 0..<count { m = Swift.max(m, abs(elements[k] - other.elements[k])) }
        return m
    }
}
