// `express4` is an npm alias for express@4; its API is the same shape as the typed express 5 module.
declare module 'express4' {
  import express from 'express'
  export default express
}
