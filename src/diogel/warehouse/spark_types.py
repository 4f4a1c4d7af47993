"""Arrow types as Spark SQL types, for the Spark warehouse (tables as Parquet folders)."""

from __future__ import annotations

import pyarrow as pa

from diogel.errors import WarehouseError


def spark_schema(schema: pa.Schema):  # noqa: ANN201
    """The Spark ``StructType`` of an Arrow schema (every field nullable)."""
    from pyspark.sql import types as T

    def conv(t: pa.DataType):  # noqa: ANN202
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            return T.StringType()
        if pa.types.is_int64(t):
            return T.LongType()
        if pa.types.is_int32(t):
            return T.IntegerType()
        if pa.types.is_floating(t):
            return T.DoubleType()
        if pa.types.is_boolean(t):
            return T.BooleanType()
        if pa.types.is_date(t):
            return T.DateType()
        if pa.types.is_timestamp(t):
            return T.TimestampType()
        if pa.types.is_binary(t) or pa.types.is_large_binary(t):
            return T.BinaryType()
        raise WarehouseError(f"no Spark type for Arrow type {t}")

    return T.StructType([T.StructField(f.name, conv(f.type), True) for f in schema])
