//! [`Table`]: the data a plugin receives and returns, an Arrow `RecordBatch`
//! with column access shaped for numeric work.

mod convert;
mod ipc;
#[cfg(test)]
mod tests;

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Float64Type};
use arrow_array::{Array, ArrayRef, Date32Array, RecordBatch, RecordBatchOptions, StringArray};
use arrow_schema::{DataType, Field, FieldRef, Metadata, Schema};
use chrono::NaiveDate;
use ndarray::{Array2, ArrayView1};

use crate::{Error, Result};

/// A table of equal-length named columns, read from and written to Arrow IPC.
///
/// Columns the plugin does not touch pass through untouched (types, nulls,
/// metadata). Numeric columns can be read as `&[f64]` and changed in place;
/// while a plugin works on a column, **missing values read as NaN and NaN
/// writes back as missing**, and the column keeps its Arrow type (integers
/// are rounded on the way out).
///
/// ```
/// use mmm_sdk::Table;
///
/// let mut t = Table::new();
/// t.set_f64("tv", vec![1.0, f64::NAN, 3.0])?;
/// for mut col in t.numeric_columns_mut() {
///     for v in col.iter_mut().filter(|v| v.is_nan()) {
///         *v = 0.0;
///     }
/// }
/// assert_eq!(t.f64_column("tv")?, &[1.0, 0.0, 3.0]);
/// let bytes = t.to_ipc()?;
/// assert_eq!(Table::from_ipc(bytes)?.f64_column("tv")?, &[1.0, 0.0, 3.0]);
/// # Ok::<(), mmm_sdk::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Table {
    fields: Vec<FieldRef>,
    metadata: Metadata,
    columns: Vec<Column>,
    num_rows: usize,
    /// The IPC stream the table was read from, while it may still be
    /// returned as is (see [`Table::into_ipc`]).
    source: Option<ipc::Source>,
}

/// A column either still in its Arrow form or opened for numeric work.
#[derive(Debug, Clone)]
enum Column {
    Arrow(ArrayRef),
    /// Values of a numeric column, NaN for missing; converted back to the
    /// field's type when the table is written.
    Values(Vec<f64>),
}

/// One numeric column opened for in-place changes; dereferences to `[f64]`.
///
/// Missing values are NaN; leave or set NaN to keep a value missing.
#[derive(Debug)]
pub struct ColumnMut<'a> {
    name: &'a str,
    values: &'a mut [f64],
}

impl ColumnMut<'_> {
    /// The column's name.
    pub fn name(&self) -> &str {
        self.name
    }
}

impl Deref for ColumnMut<'_> {
    type Target = [f64];
    fn deref(&self) -> &[f64] {
        self.values
    }
}

impl DerefMut for ColumnMut<'_> {
    fn deref_mut(&mut self) -> &mut [f64] {
        self.values
    }
}

impl Table {
    /// An empty table; the first column added sets the number of rows.
    pub fn new() -> Self {
        Self::default()
    }

    /// Wraps a record batch without copying.
    pub fn from_batch(batch: RecordBatch) -> Self {
        let schema = batch.schema();
        Self {
            fields: schema.fields().iter().cloned().collect(),
            metadata: schema.metadata().clone(),
            num_rows: batch.num_rows(),
            columns: batch.columns().iter().cloned().map(Column::Arrow).collect(),
            source: None,
        }
    }

    /// The table as a record batch (columns opened for numeric work are
    /// converted back to their Arrow type).
    pub fn to_batch(&self) -> Result<RecordBatch> {
        let mut fields = Vec::with_capacity(self.fields.len());
        let mut arrays = Vec::with_capacity(self.fields.len());
        for (field, column) in self.fields.iter().zip(&self.columns) {
            let array = self.materialize(field, column);
            let field = if array.null_count() > 0 && !field.is_nullable() {
                Arc::new(field.as_ref().clone().with_nullable(true))
            } else {
                Arc::clone(field)
            };
            fields.push(field);
            arrays.push(array);
        }
        let schema = Schema::new(fields).with_metadata(self.metadata.clone());
        let options = RecordBatchOptions::new().with_row_count(Some(self.num_rows));
        RecordBatch::try_new_with_options(Arc::new(schema), arrays, &options)
            .map_err(|e| Error::internal(format!("building the output table: {e}")))
    }

    fn materialize(&self, field: &Field, column: &Column) -> ArrayRef {
        match column {
            Column::Arrow(array) => Arc::clone(array),
            Column::Values(values) => convert::from_f64(values, field.data_type()),
        }
    }

    /// Number of rows.
    pub fn num_rows(&self) -> usize {
        self.num_rows
    }

    /// Number of columns.
    pub fn num_columns(&self) -> usize {
        self.fields.len()
    }

    /// Column names in order.
    pub fn column_names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|f| f.name().as_str())
    }

    /// Whether a column of that name exists.
    pub fn has_column(&self, name: &str) -> bool {
        self.index(name).is_ok()
    }

    /// The Arrow type of a column.
    pub fn data_type(&self, name: &str) -> Result<&DataType> {
        Ok(self.fields[self.index(name)?].data_type())
    }

    /// Names of the numeric (integer or float) columns, in order.
    pub fn numeric_column_names(&self) -> Vec<String> {
        self.fields
            .iter()
            .filter(|f| convert::is_numeric(f.data_type()))
            .map(|f| f.name().clone())
            .collect()
    }

    /// The name of the first date or timestamp column, the period column by convention.
    pub fn date_column(&self) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| convert::is_temporal(f.data_type()))
            .map(|f| f.name().as_str())
    }

    fn index(&self, name: &str) -> Result<usize> {
        self.fields
            .iter()
            .position(|f| f.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = self.column_names().collect();
                Error::invalid_input(format!(
                    "no column `{name}`; the table has: {}",
                    names.join(", ")
                ))
            })
    }

    /// Any column as an Arrow array, the escape hatch to the full Arrow API.
    pub fn column(&self, name: &str) -> Result<ArrayRef> {
        let i = self.index(name)?;
        Ok(self.materialize(&self.fields[i], &self.columns[i]))
    }

    /// A numeric column's values without copying.
    ///
    /// Works on `Float64` columns without missing values and on any column
    /// opened with [`Table::f64_column_mut`] (NaN marks missing there). For
    /// other numeric types or columns with missing values, use
    /// [`Table::to_f64_vec`].
    pub fn f64_column(&self, name: &str) -> Result<&[f64]> {
        let i = self.index(name)?;
        match &self.columns[i] {
            Column::Values(values) => Ok(values),
            Column::Arrow(array) => match array.data_type() {
                DataType::Float64 if array.null_count() == 0 => {
                    Ok(array.as_primitive::<Float64Type>().values())
                }
                DataType::Float64 => Err(Error::invalid_input(format!(
                    "column `{name}` has {} missing values; impute them first or read it with `to_f64_vec`",
                    array.null_count()
                ))),
                other => Err(Error::invalid_input(format!(
                    "column `{name}` is {other}, not Float64; read it with `to_f64_vec`"
                ))),
            },
        }
    }

    /// A numeric column as an ndarray view, under the rules of [`Table::f64_column`].
    pub fn view(&self, name: &str) -> Result<ArrayView1<'_, f64>> {
        self.f64_column(name).map(ArrayView1::from)
    }

    /// A copy of any numeric column as `f64`, missing values as NaN.
    pub fn to_f64_vec(&self, name: &str) -> Result<Vec<f64>> {
        let i = self.index(name)?;
        match &self.columns[i] {
            Column::Values(values) => Ok(values.clone()),
            Column::Arrow(array) => convert::to_f64_vec(array.as_ref()).ok_or_else(|| {
                Error::invalid_input(format!(
                    "column `{name}` is {}, not a number",
                    array.data_type()
                ))
            }),
        }
    }

    /// Copies numeric columns into an `n_rows × names.len()` matrix (a design matrix).
    pub fn to_matrix(&self, names: &[&str]) -> Result<Array2<f64>> {
        let mut matrix = Array2::zeros((self.num_rows, names.len()));
        for (j, name) in names.iter().enumerate() {
            let values = self.to_f64_vec(name)?;
            matrix.column_mut(j).assign(&ArrayView1::from(&values[..]));
        }
        Ok(matrix)
    }

    fn open_values(&mut self, i: usize) -> Result<&mut Vec<f64>> {
        if let Column::Arrow(array) = &self.columns[i] {
            let values = convert::to_f64_vec(array.as_ref()).ok_or_else(|| {
                Error::invalid_input(format!(
                    "column `{}` is {}, not a number",
                    self.fields[i].name(),
                    array.data_type()
                ))
            })?;
            self.columns[i] = Column::Values(values);
        }
        match &mut self.columns[i] {
            Column::Values(values) => Ok(values),
            Column::Arrow(_) => unreachable!("the column was just opened"),
        }
    }

    /// Opens a numeric column for in-place changes (missing values as NaN).
    pub fn f64_column_mut(&mut self, name: &str) -> Result<&mut [f64]> {
        let i = self.index(name)?;
        self.open_values(i).map(Vec::as_mut_slice)
    }

    /// Opens every numeric column for in-place changes, in order.
    pub fn numeric_columns_mut(&mut self) -> impl Iterator<Item = ColumnMut<'_>> {
        for i in 0..self.fields.len() {
            if convert::is_numeric(self.fields[i].data_type()) {
                // Cannot fail: the type was just checked.
                let _ = self.open_values(i);
            }
        }
        self.fields
            .iter()
            .zip(self.columns.iter_mut())
            .filter_map(|(field, column)| match column {
                Column::Values(values) => Some(ColumnMut {
                    name: field.name(),
                    values,
                }),
                Column::Arrow(_) => None,
            })
    }

    /// A date or timestamp column as calendar dates (timestamps give their UTC date).
    pub fn dates(&self, name: &str) -> Result<Vec<NaiveDate>> {
        let array = self.column(name)?;
        let dates = convert::to_dates(array.as_ref()).ok_or_else(|| {
            Error::invalid_input(format!(
                "column `{name}` is {}, not a date",
                array.data_type()
            ))
        })?;
        dates
            .into_iter()
            .enumerate()
            .map(|(row, d)| {
                d.ok_or_else(|| {
                    Error::invalid_input(format!("column `{name}` has no date at row {row}"))
                })
            })
            .collect()
    }

    /// Adds a column, or replaces the one of the same name (keeping its position).
    pub fn set_column(&mut self, name: &str, array: ArrayRef) -> Result<()> {
        if self.fields.is_empty() {
            self.num_rows = array.len();
        } else if array.len() != self.num_rows {
            return Err(Error::internal(format!(
                "column `{name}` has {} values, the table has {} rows",
                array.len(),
                self.num_rows
            )));
        }
        let field = Arc::new(Field::new(name, array.data_type().clone(), true));
        match self.index(name) {
            Ok(i) => {
                self.fields[i] = field;
                self.columns[i] = Column::Arrow(array);
            }
            Err(_) => {
                self.fields.push(field);
                self.columns.push(Column::Arrow(array));
            }
        }
        Ok(())
    }

    /// Adds or replaces a `Float64` column; NaN becomes missing.
    pub fn set_f64(&mut self, name: &str, values: Vec<f64>) -> Result<()> {
        self.set_column(name, convert::from_f64(&values, &DataType::Float64))
    }

    /// Adds or replaces a `Date32` column.
    pub fn set_dates(&mut self, name: &str, dates: &[NaiveDate]) -> Result<()> {
        let array =
            Date32Array::from_iter_values(dates.iter().map(|d| Date32Type::from_naive_date(*d)));
        self.set_column(name, Arc::new(array))
    }

    /// Adds or replaces a `Utf8` column.
    pub fn set_strings<S: AsRef<str>>(&mut self, name: &str, values: &[S]) -> Result<()> {
        let array = StringArray::from_iter_values(values.iter().map(AsRef::as_ref));
        self.set_column(name, Arc::new(array))
    }

    /// Removes a column.
    pub fn drop_column(&mut self, name: &str) -> Result<()> {
        let i = self.index(name)?;
        self.fields.remove(i);
        self.columns.remove(i);
        Ok(())
    }
}
