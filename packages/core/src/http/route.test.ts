import { describe, expect, it } from 'vitest'
import { joinRoute, routeTemplate, templatize } from './route'

describe('route helpers', () => {
  it('renders route paths of every kind as strings', () => {
    expect(routeTemplate('/patients/:id')).toBe('/patients/:id')
    expect(routeTemplate(/^\/files\/(\d+)$/)).toBe('/^\\/files\\/(\\d+)$/')
    expect(routeTemplate(['/a', '/b/:id'])).toBe('/a,/b/:id')
    expect(routeTemplate(undefined)).toBeUndefined()
    expect(routeTemplate({})).toBeUndefined()
  })

  it('joins mount prefixes and route paths with single slashes', () => {
    expect(joinRoute('', '/patients/:id')).toBe('/patients/:id')
    expect(joinRoute('/api', '/patients/:id')).toBe('/api/patients/:id')
    expect(joinRoute('/api/', '/')).toBe('/api')
    expect(joinRoute('/api', 'x')).toBe('/api/x')
    expect(joinRoute('', '/')).toBe('/')
    expect(joinRoute(undefined, undefined)).toBe('/')
    expect(joinRoute('/a', 'x'.repeat(1000))).toHaveLength(512)
  })

  it('turns actual mount paths back into templates', () => {
    const params = new Map([
      ['123-45-6789', 'pid'],
      ['Jane Doe', 'name'],
    ])
    expect(templatize('/patients/123-45-6789/notes', params)).toBe('/patients/:pid/notes')
    expect(templatize('/by-name/Jane%20Doe', params)).toBe('/by-name/:name')
    expect(templatize('/plain', undefined)).toBe('/plain')
  })
})
